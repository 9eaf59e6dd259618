#!/usr/bin/env python3
"""Summary of scripts/bench/gpu_vs_llamacpp.sh: one JSON (and a table on stdout) with AgentRT's CUDA figures
at bf16/int8/int4 beside llama.cpp's at F16/Q8_0/Q4_0, the ratios, and our fractions of the copy bound and
GEMM rate measured in the same run.

    gpu_summary.py RESULTS_DIR > summary.json
"""
import json
import re
import sys
from pathlib import Path

PAIRS = [("auto", "f16", "16-bit"), ("int8", "q8_0", "8-bit"), ("int4", "q4_0", "4-bit")]


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def ours(results, weights):
    data = load_json(results / f"agentrt-{weights}.json")
    if not data:
        return None
    return {
        "weights": data.get("linear_weights"),
        "copy_bandwidth_gb_s": data.get("copy_bandwidth_gb_s"),
        "bf16_gemm_tflop_s": data.get("bf16_gemm_tflop_s"),
        "prefill": {p["tokens"]: {"tokens_per_s": p["tokens_per_s"], "of_gemm": p["fraction_of_gemm_rate"]}
                    for p in data.get("prefill", [])},
        "decode": {d["batch"]: {"tokens_per_s": d["tokens_per_s"], "of_copy_bound": d["fraction_of_copy_bound"]}
                   for d in data.get("decode", [])},
        "weight_bytes": data.get("memory", {}).get("weight_bytes"),
    }


def llama(results, quant):
    out = {"prefill": {}, "decode": {}}
    bench = load_json(results / f"llama-bench-{quant}.json")
    for row in bench or []:
        if row.get("n_gen", 0) == 0:
            out["prefill"][row["n_prompt"]] = {"tokens_per_s": row["avg_ts"]}
        elif row.get("n_prompt", 0) == 0:
            out["decode"][1] = {"tokens_per_s": row["avg_ts"]}
    # llama-batched-bench's table: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
    for name in (f"llama-batched-{quant}.txt", f"llama-batched-{quant}.err"):
        try:
            text = (results / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 10 and re.fullmatch(r"\d+", cells[2] or ""):
                out["decode"].setdefault(f"batched_{cells[2]}", {"tokens_per_s": float(cells[7])})
    return out


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def main():
    results = Path(sys.argv[1])
    summary = {"machine": (results / "machine.txt").read_text() if (results / "machine.txt").exists() else ""}
    rows = []
    for ours_w, llama_q, label in PAIRS:
        o, l = ours(results, ours_w), llama(results, llama_q)
        entry = {"agentrt": o, "llama.cpp": l, "ratios": {}}
        if o:
            for tokens, p in o["prefill"].items():
                theirs = l["prefill"].get(tokens, {}).get("tokens_per_s")
                entry["ratios"][f"prefill_{tokens}"] = ratio(p["tokens_per_s"], theirs)
                rows.append((label, f"prefill {tokens}", p["tokens_per_s"], theirs, p["of_gemm"]))
            for batch, d in o["decode"].items():
                theirs = l["decode"].get(f"batched_{batch}", {}).get("tokens_per_s")
                if batch == 1 and l["decode"].get(1):
                    theirs_tg = l["decode"][1]["tokens_per_s"]
                    entry["ratios"]["decode_1_vs_tg128"] = ratio(d["tokens_per_s"], theirs_tg)
                    rows.append((label, "decode 1 (tg128)", d["tokens_per_s"], theirs_tg, d["of_copy_bound"]))
                entry["ratios"][f"decode_{batch}"] = ratio(d["tokens_per_s"], theirs)
                rows.append((label, f"decode {batch} (batched)", d["tokens_per_s"], theirs, d["of_copy_bound"]))
        summary[label] = entry
    json.dump(summary, sys.stdout, indent=1)
    print()
    for label, what, a, b, frac in rows:
        print(f"# {label:6} {what:22} agentrt {a or 0:10.1f}  llama.cpp {b or 0:10.1f}  "
              f"ratio {ratio(a, b) or 0:6.3f}  of bound {frac or 0:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
