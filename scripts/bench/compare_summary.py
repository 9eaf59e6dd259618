#!/usr/bin/env python3
"""Summarises compare_llamacpp.sh's results.jsonl: per configuration the median tokens/s with the range over
the rounds, agentrt over llama.cpp as ratios of medians (and the range of the per-round ratios, each round's two
runs being next to each other in time), decode as a fraction of the memory bound agentrt measured in the same
round, and peak RSS.

    python3 scripts/bench/compare_summary.py WORK/results.jsonl WORK/gguf MODEL_NAME"""
import json
import os
import statistics
import sys

PAIRS = [  # (agentrt config, llama.cpp config)
    ("bf16", "F16"),
    ("bf16", "BF16"),
    ("bf16, fp32 prefill activations", "F16"),
    ("bf16, mapped weights", "F16"),
    ("int8", "Q8_0"),
    ("int4", "Q4_0"),
]


def gguf_decode_bytes(path):
    """Bytes a llama.cpp decode step reads: every tensor but the token embeddings (one row of those)."""
    if not os.path.isfile(path):
        return None
    try:
        from gguf import GGUFReader  # llama.cpp's gguf-py, when on PYTHONPATH
    except ImportError:
        return None
    reader = GGUFReader(path)
    total = sum(int(t.n_bytes) for t in reader.tensors if t.name != "token_embd.weight")
    return total


def fmt(values, digits=1):
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def read_rate_levels(rows):
    """The probes' two levels when the machine's read rate took two during the run, else None: the widest gap
    between consecutive sorted probes, if the rate above it is at least 1.25 times the rate below. Returns
    (threshold, low median, high median)."""
    probes = sorted(p for r in rows for p in r.get("bandwidth_probes_gb_s", []))
    if len(probes) < 2:
        return None
    gaps = [(probes[i + 1] / probes[i], i) for i in range(len(probes) - 1) if probes[i] > 0]
    if not gaps:
        return None
    ratio, i = max(gaps)
    if ratio < 1.25:
        return None
    return (probes[i] * probes[i + 1]) ** 0.5, statistics.median(probes[: i + 1]), statistics.median(probes[i + 1:])


def level_of(run, threshold):
    """'low' or 'high' when every probe around the run is on one side of the threshold, else None."""
    probes = run.get("bandwidth_probes_gb_s", [])
    if not probes:
        return None
    sides = {p >= threshold for p in probes}
    return None if len(sides) != 1 else ("high" if sides.pop() else "low")


def print_decode_by_level(by, rounds, levels):
    threshold, low, high = levels
    print(f"\nThe read rate took two levels during the run: {low:.1f} and {high:.1f} GB/s (probes below and above "
          f"{threshold:.1f}). Decode ratios from rounds where both runs lie wholly inside one level "
          "(medians of the per-round ratios; n rounds):\n")
    print("| agentrt | llama.cpp | decode ratio, low level | decode ratio, high level |")
    print("|---|---|---|---|")
    for mine, theirs in PAIRS:
        a, b = by.get(("agentrt", mine)), by.get(("llama.cpp", theirs))
        if not a or not b:
            continue
        cells = []
        for level in ("low", "high"):
            ratios = []
            for rnd in rounds:
                x = [r for r in a if r["round"] == rnd and level_of(r, threshold) == level]
                y = [r for r in b if r["round"] == rnd and level_of(r, threshold) == level]
                if x and y and y[0].get("decode_tok_s", 0) > 0:
                    ratios.append(x[0]["decode_tok_s"] / y[0]["decode_tok_s"])
            cells.append(f"{statistics.median(ratios):.2f}x (n={len(ratios)})" if ratios else "- (n=0)")
        print(f"| {mine} | {theirs} | {cells[0]} | {cells[1]} |")


def main():
    results, gguf_dir, name = sys.argv[1:4]
    rows = [json.loads(line) for line in open(results) if line.strip()]
    by = {}
    for r in rows:
        by.setdefault((r["engine"], r["config"]), []).append(r)
    rounds = sorted({r["round"] for r in rows})
    bandwidth = {r["round"]: r["bandwidth_gb_s"] for r in rows if r["engine"] == "agentrt"}
    for r in rows:
        if r["engine"] == "agentrt":
            bandwidth[r["round"]] = max(bandwidth[r["round"]], r["bandwidth_gb_s"])
    files = {"F16": "f16", "BF16": "bf16", "Q8_0": "q8_0", "Q4_0": "q4_0"}
    llama_bytes = {c: gguf_decode_bytes(os.path.join(gguf_dir, f"{name}-{s}.gguf")) for c, s in files.items()}

    print(f"{len(rounds)} rounds; medians, with the range over the rounds in brackets\n")
    print("| engine | weights | prefill tok/s | decode tok/s | decode, fraction of the bound | peak RSS GB | "
          "CPU share (prefill / decode) |")
    print("|---|---|---|---|---|---|---|")
    for (engine, config), runs in sorted(by.items()):
        pre = [r["prefill_tok_s"] for r in runs if "prefill_tok_s" in r]
        dec = [r["decode_tok_s"] for r in runs if "decode_tok_s" in r]
        if engine == "agentrt":
            frac = [r["decode_fraction_of_bound"] for r in runs]
            share = f"{statistics.median(r['prefill_cpu_share'] for r in runs):.2f} / " \
                    f"{statistics.median(r['decode_cpu_share'] for r in runs):.2f}"
        else:
            b = llama_bytes.get(config)
            frac = [r["decode_tok_s"] * b / (bandwidth[r["round"]] * 1e9) for r in runs if b and r["round"] in bandwidth]
            share = "-"
        rss = [r["peak_rss_bytes"] / 1e9 for r in runs]
        print(f"| {engine} | {config} | {fmt(pre)} | {fmt(dec, 2)} | {fmt(frac, 2)} | {fmt(rss, 2)} | {share} |")

    print("\n| agentrt | llama.cpp | prefill ratio | decode ratio |")
    print("|---|---|---|---|")
    for mine, theirs in PAIRS:
        a, b = by.get(("agentrt", mine)), by.get(("llama.cpp", theirs))
        if not a or not b:
            continue
        ratio = {}
        for key in ("prefill_tok_s", "decode_tok_s"):
            per_round = []
            for rnd in rounds:
                x = [r[key] for r in a if r["round"] == rnd and key in r]
                y = [r[key] for r in b if r["round"] == rnd and key in r]
                if x and y and y[0] > 0:
                    per_round.append(x[0] / y[0])
            med = statistics.median(r[key] for r in a) / statistics.median(r[key] for r in b if key in r)
            ratio[key] = f"{med:.2f}x" + (f" ({min(per_round):.2f}-{max(per_round):.2f})" if len(per_round) > 1 else "")
        print(f"| {mine} | {theirs} | {ratio['prefill_tok_s']} | {ratio['decode_tok_s']} |")
    levels = read_rate_levels(rows)
    if levels:
        print_decode_by_level(by, rounds, levels)
    bf16 = by.get(("agentrt", "bf16"))
    int4 = by.get(("agentrt", "int4"))
    if bf16 and int4:
        print(f"\nPeak RSS, int4 over bf16 (agentrt): "
              f"{statistics.median(r['peak_rss_bytes'] for r in int4) / statistics.median(r['peak_rss_bytes'] for r in bf16):.3f}")
    commits = {r.get("build") for r in rows if r["engine"] == "llama.cpp"}
    print(f"\nllama.cpp build: {', '.join(sorted(c for c in commits if c))}")


if __name__ == "__main__":
    main()
