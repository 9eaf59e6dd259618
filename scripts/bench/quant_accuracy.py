#!/usr/bin/env python3
"""Accuracy of the quantized engine against bf16 on one checkpoint: the logits at every position of one prompt
(`agentrt logits`, one prefill), for each configuration next to the reference (the checkpoint as stored):
per position the relative error ||l - l_ref|| / ||l_ref||, the largest |l - l_ref| over the largest |l_ref|,
and whether the argmax agrees.

    /usr/bin/python3 scripts/bench/quant_accuracy.py --agentrt build/bin/agentrt --model DIR \\
        [--tokens 512] [--threads 2] [--json out.json]

Needs numpy (Debian: python3-numpy). Prints a Markdown table and, with --json, writes the figures."""
import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile

import numpy as np

CONFIGS = [
    ("int8 weights", ["--weights", "int8"]),
    ("int4 weights", ["--weights", "int4"]),
    ("int8 KV cache", ["--kv-cache", "int8"]),
    ("int4 weights + int8 KV", ["--weights", "int4", "--kv-cache", "int8"]),
    ("bf16 activations in prefill", ["--prefill-activations", "bf16"]),
]


def logits(agentrt, model, ids, flags, threads, out):
    cmd = [agentrt, "logits", "--model", model, "--tokens", ",".join(map(str, ids)), "--out", out,
           "--threads", str(threads)] + flags
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    data = np.fromfile(out, dtype=np.float32)
    os.unlink(out)
    return data.reshape(len(ids), -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    vocab = json.loads(pathlib.Path(args.model, "config.json").read_text())["vocab_size"]
    rng = random.Random(args.seed)
    # <s>, then ids away from the special tokens at both ends of the vocabulary.
    ids = [1] + [rng.randrange(3, vocab - 8) for _ in range(args.tokens - 1)]
    with tempfile.TemporaryDirectory(prefix="agentrt-accuracy-") as tmp:
        out = str(pathlib.Path(tmp) / "logits.f32")
        ref = logits(args.agentrt, args.model, ids, [], args.threads, out).astype(np.float64)
        ref_top = ref.argmax(axis=1)
        rows = []
        for name, flags in CONFIGS:
            got = logits(args.agentrt, args.model, ids, flags, args.threads, out).astype(np.float64)
            rel = np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)
            worst = np.abs(got - ref).max(axis=1) / np.abs(ref).max(axis=1)
            agree = float((got.argmax(axis=1) == ref_top).mean())
            rows.append({"config": name, "flags": " ".join(flags), "positions": len(ids),
                         "relative_error_mean": float(rel.mean()), "relative_error_max": float(rel.max()),
                         "max_abs_over_max_logit": float(worst.max()), "argmax_agreement": agree})
    print(f"{args.model}, {len(ids)}-token prompt, reference: the checkpoint as stored (fp32 activations)\n")
    print("| configuration | flags | relative error, mean | relative error, worst position | "
          "max abs / max logit | argmax agreement |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | `{r['flags']}` | {r['relative_error_mean']:.4f} | {r['relative_error_max']:.4f} | "
              f"{r['max_abs_over_max_logit']:.4f} | {100 * r['argmax_agreement']:.1f}% |")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
