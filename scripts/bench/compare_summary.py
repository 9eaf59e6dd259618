#!/usr/bin/env python3
"""Summarises compare_llamacpp.sh's results.jsonl: per configuration the median tokens/s with the range over
the rounds, agentrt over llama.cpp as ratios of medians (and the median and range of the per-round ratios, each
round's two runs being minutes apart at most), decode as a fraction of the read rate probed around each run,
the spread of those probes, and peak RSS.

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


def bound_of(run, round_bandwidth):
    """The read rate (GB/s) a run's decode is measured against: the best of the probes around it (agentrt's
    before loading and after decoding, llama-bench's before and after its run), else agentrt's in its round."""
    probes = run.get("bandwidth_probes_gb_s")
    return max(probes) if probes else round_bandwidth.get(run["round"])


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
            frac = [r["decode_tok_s"] * b / (bound_of(r, bandwidth) * 1e9) for r in runs if b and bound_of(r, bandwidth)]
            share = "-"
        rss = [r["peak_rss_bytes"] / 1e9 for r in runs]
        print(f"| {engine} | {config} | {fmt(pre)} | {fmt(dec, 2)} | {fmt(frac, 2)} | {fmt(rss, 2)} | {share} |")

    probes = sorted(p for r in rows for p in r.get("bandwidth_probes_gb_s", []))
    if probes:
        print(f"\nRead-rate probes during the run ({len(probes)}, the best of 12 passes each): "
              f"{probes[0]:.1f} to {probes[-1]:.1f} GB/s, median {statistics.median(probes):.1f}")
    print("\nRatios of the medians; in brackets the median and range of the per-round ratios (each round's two "
          "runs minutes apart at most)\n")
    print("| agentrt | llama.cpp | prefill ratio | decode ratio |")
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
            ratio[key] = f"{med:.2f}x" + (f" (median {statistics.median(per_round):.2f}, "
                                          f"{min(per_round):.2f}-{max(per_round):.2f})" if len(per_round) > 1 else "")
        print(f"| {mine} | {theirs} | {ratio['prefill_tok_s']} | {ratio['decode_tok_s']} |")
    bf16 = by.get(("agentrt", "bf16"))
    int4 = by.get(("agentrt", "int4"))
    if bf16 and int4:
        print(f"\nPeak RSS, int4 over bf16 (agentrt): "
              f"{statistics.median(r['peak_rss_bytes'] for r in int4) / statistics.median(r['peak_rss_bytes'] for r in bf16):.3f}")
    commits = {r.get("build") for r in rows if r["engine"] == "llama.cpp"}
    print(f"\nllama.cpp build: {', '.join(sorted(c for c in commits if c))}")


if __name__ == "__main__":
    main()
