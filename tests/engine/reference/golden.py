#!/usr/bin/python3
"""Writes or checks the engine's golden outputs with the numpy reference (internlm2_numpy.py).

  golden.py write --agentrt BIN --work DIR   # make the checkpoints, compute, write tests/engine/golden/*
  golden.py check --agentrt BIN --work DIR   # recompute and compare with the committed goldens

Exit status: 0 ok, 1 mismatch, 77 when numpy is missing (ctest reports the test as skipped)."""

import argparse
import json
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed for", sys.executable, "- skipping the reference check")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from internlm2_numpy import InternLM2  # noqa: E402

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
# The engine must match to this fraction of the largest |logit| (issue 3, "Done means").
TOLERANCE = 1e-3


def float16_half_ulp(values):
    """Half the float16 spacing at each value: the most that storing it as float16 can move it."""
    magnitude = np.maximum(np.abs(values), 2.0 ** -14)
    return 0.5 * 2.0 ** (np.floor(np.log2(magnitude)) - 10)


def prompt_tokens(length, vocab, seed):
    """BOS, then pseudo-random ordinary tokens (not the control or protocol ids)."""
    tokens, state = [1], 12345 + 7919 * seed
    for _ in range(length - 1):
        state = (state * 1103515245 + 12345) % (1 << 31)
        tokens.append(3 + state % (vocab - 9))
    return tokens


def make_checkpoint(agentrt, work, case):
    out = os.path.join(work, case["name"])
    args = [agentrt, "make-model", "--preset", case["preset"], "--out", out, "--seed", str(case["seed"]),
            "--shards", str(case["shards"]), "--dtype", case["dtype"]]
    if "rope_scaling" in case:
        args += ["--rope-scaling", case["rope_scaling"]]
    if "max_position_embeddings" in case:
        args += ["--max-position-embeddings", str(case["max_position_embeddings"])]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return out


def compute(model_dir, case):
    model = InternLM2(model_dir)
    vocab = model.config["vocab_size"]
    tokens = prompt_tokens(case["prompt_len"], vocab, case["seed"])
    model.reset()
    logits = model.forward(tokens)
    result = {"tokens": tokens, "argmax": [int(i) for i in logits.argmax(axis=-1)],
              "max_abs_logit": float(np.abs(logits).max())}
    sorted_logits = np.sort(logits, axis=-1)
    result["min_top2_margin"] = float((sorted_logits[:, -1] - sorted_logits[:, -2]).min())
    if "greedy_steps" in case:
        prompt = prompt_tokens(case["greedy_prompt_len"], vocab, case["seed"] + 100)
        greedy, margin = model.greedy(prompt, case["greedy_steps"])
        result.update({"greedy_prompt": prompt, "greedy": greedy, "greedy_min_margin": margin})
    return result, logits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["write", "check"])
    parser.add_argument("--agentrt", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    with open(os.path.join(GOLDEN_DIR, "cases.json")) as f:
        cases = json.load(f)["cases"]
    os.makedirs(args.work, exist_ok=True)
    failures = 0
    for case in cases:
        model_dir = make_checkpoint(args.agentrt, args.work, case)
        result, logits = compute(model_dir, case)
        json_path = os.path.join(GOLDEN_DIR, case["name"] + ".json")
        bin_path = os.path.join(GOLDEN_DIR, case["name"] + ".logits.f16")
        if args.mode == "write":
            scale = result["max_abs_logit"]
            # Goldens store float16 logits: their rounding must stay far inside the tolerance.
            assert np.abs(logits.astype(np.float16) - logits).max() < 0.5 * TOLERANCE * scale
            assert result["min_top2_margin"] > 0.5 * TOLERANCE * scale, "argmax too close to call; change the seed"
            if "greedy" in result:
                assert result["greedy_min_margin"] > 0.5 * TOLERANCE * scale, "greedy too close to call; change the seed"
            with open(json_path, "w") as f:
                json.dump(result, f, indent=1)
                f.write("\n")
            logits.astype("<f2").tofile(bin_path)
            print(f"{case['name']}: wrote {logits.shape[0]} x {logits.shape[1]} logits, scale {scale:.3f}")
            continue
        with open(json_path) as f:
            golden = json.load(f)
        golden_logits = np.fromfile(bin_path, dtype="<f2").astype(np.float64).reshape(logits.shape)
        scale = golden["max_abs_logit"]
        diff = np.abs(logits - golden_logits)
        # The goldens are float16: allow exactly what their rounding may hide, no more.
        within = bool((diff <= TOLERANCE * scale - float16_half_ulp(golden_logits)).all())
        diff = float(diff.max())
        ok = (golden["tokens"] == result["tokens"] and golden["argmax"] == result["argmax"]
              and within and golden.get("greedy") == result.get("greedy"))
        print(f"{case['name']}: max |diff| {diff:.2e} (limit {TOLERANCE * scale:.2e}), "
              f"argmax {'same' if golden['argmax'] == result['argmax'] else 'DIFFERENT'}, "
              f"greedy {'same' if golden.get('greedy') == result.get('greedy') else 'DIFFERENT'}: "
              f"{'ok' if ok else 'MISMATCH'}")
        failures += 0 if ok else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
