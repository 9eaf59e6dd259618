#!/usr/bin/env bash
# AgentRT against llama.cpp on the same weights, interleaved and repeated (docs/engine.md, "Against llama.cpp").
#
#   scripts/bench/compare_llamacpp.sh LLAMA_BUILD_DIR [--work DIR] [--model DIR] [--rounds N] [--threads N]
#                                     [--prompt N] [--gen N] [--only bf16,int8,int4]
#
# LLAMA_BUILD_DIR holds bin/llama-bench and bin/llama-quantize (a CPU build of llama.cpp; llama.cpp is never part
# of this repository). The script:
#   1. makes the random 1.8B checkpoint (agentrt make-model --preset 1_8b) unless --model names one;
#   2. converts it with llama.cpp's convert_hf_to_gguf.py to F16 and BF16 GGUF (CONVERT overrides the command,
#      e.g. when the converter needs a shim; it is called as: $CONVERT SRC_DIR --outtype T --outfile F), and
#      quantizes the F16 file with llama-quantize to Q8_0 and Q4_0;
#   3. writes the int8 and int4 (AWQ layout) checkpoints with `agentrt quantize`;
#   4. runs, round after round and in a new random order each round, `llama-bench -p P -n G -t T -r 1` on each
#      GGUF and `agentrt bench --prompt-len P --gen G --threads T --decode-context 1` on each checkpoint (decode
#      from a one-token context, as llama-bench's tg test decodes from an empty one);
#   5. prints medians with their spread, the ratios, decode as a fraction of the read rate probed around each
#      run, and peak RSS (agentrt's own report; llama-bench's from /usr/bin/time). Each llama-bench run is
#      bracketed by `agentrt bench --bandwidth-only` probes (agentrt's own runs probe before loading and after
#      decoding), and the summary shows how much that rate moved during the run (a shared host's moves a lot).
# --only keeps some of the three pairs (bf16: agentrt bf16 three ways against F16 and BF16; int8: against Q8_0;
# int4: against Q4_0), so that a decode comparison on a noisy machine can afford many rounds.
# Everything lands in WORK (default /tmp/agentrt-vs-llamacpp): the models, results.jsonl and summary.md.
# Environment: AGENTRT (default build/bin/agentrt), LLAMA_SRC (default: LLAMA_BUILD_DIR/..), CONVERT, PYTHON (for
# the summary, default /usr/bin/python3: with numpy and llama.cpp's gguf-py it also reads the GGUFs' sizes).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
[[ $# -ge 1 && "$1" != -h && "$1" != --help ]] || { usage; exit 2; }
llama_build=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=/tmp/agentrt-vs-llamacpp
model=""
rounds=3
threads=2
prompt=512
gen=32
only=bf16,int8,int4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --prompt) prompt=$2; shift 2 ;;
    --gen) gen=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "compare_llamacpp: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for pair in ${only//,/ }; do
  [[ $pair == bf16 || $pair == int8 || $pair == int4 ]] ||
    { echo "compare_llamacpp: --only takes bf16, int8 and int4, not '$pair'" >&2; exit 2; }
done
agentrt=${AGENTRT:-$root/build/bin/agentrt}
llama_src=${LLAMA_SRC:-$(cd "$llama_build/.." && pwd)}
convert=${CONVERT:-python3 $llama_src/convert_hf_to_gguf.py}
py=${PYTHON:-/usr/bin/python3}
bench=$llama_build/bin/llama-bench
quantize=$llama_build/bin/llama-quantize
for tool in "$agentrt" "$bench" "$quantize"; do
  [[ -x "$tool" ]] || { echo "compare_llamacpp: $tool is missing or not executable" >&2; exit 1; }
done
mkdir -p "$work/gguf"
say() { echo "== $*" >&2; }

# 1-3: the weights, made once and reused by later runs.
if [[ -z "$model" ]]; then
  model=$work/internlm2-1_8b-random
  [[ -f "$model/model.safetensors" ]] || { say "making $model"; "$agentrt" make-model --preset 1_8b --out "$model"; }
fi
name=$(basename "$model")
for t in f16 bf16; do
  f=$work/gguf/$name-$t.gguf
  [[ -f "$f" ]] || { say "converting to $t"; $convert "$model" --outtype "$t" --outfile "$f" >&2; }
done
for q in Q8_0 Q4_0; do
  f=$work/gguf/$name-${q,,}.gguf
  [[ -f "$f" ]] || { say "llama-quantize $q"; "$quantize" "$work/gguf/$name-f16.gguf" "$f" "$q" >&2; }
done
for w in int8 int4; do
  d=$work/$name-$w
  [[ -f "$d/model.safetensors" ]] || { say "agentrt quantize $w"; "$agentrt" quantize --model "$model" --weights "$w" --out "$d" >&2; }
done

# 4: the runs. Each line of results.jsonl: {round, engine, config, prefill_tok_s, decode_tok_s, ...}.
results=$work/results.jsonl
: >"$results"
probe() {  # the machine's read rate now, GB/s (agentrt bench --bandwidth-only)
  "$agentrt" bench --bandwidth-only --threads "$threads" 2>/dev/null |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["memory_bandwidth_gb_s"])'
}
run_llama() {  # round config gguf
  local out rss before after
  out=$(mktemp)
  before=$(probe)
  /usr/bin/time -f %M -o "$out.rss" "$bench" -m "$3" -p "$prompt" -n "$gen" -t "$threads" -r 1 -o json >"$out" 2>/dev/null
  after=$(probe)
  rss=$(tail -n 1 "$out.rss")
  "$py" - "$1" "$2" "$3" "$rss" "$out" "$before" "$after" >>"$results" <<'PY'
import json, sys
rnd, config, gguf, rss, path, before, after = sys.argv[1:]
rows = json.load(open(path))
line = {"round": int(rnd), "engine": "llama.cpp", "config": config, "file": gguf, "peak_rss_bytes": int(rss) * 1024,
        "bandwidth_probes_gb_s": [float(before), float(after)]}
for r in rows:
    key = "prefill_tok_s" if r["n_prompt"] > 0 else "decode_tok_s"
    line[key] = r["avg_ts"]
    line["build"] = r.get("build_commit", "")
print(json.dumps(line))
PY
  rm -f "$out" "$out.rss"
}
run_agentrt() {  # round config dir flags...
  local rnd=$1 config=$2 dir=$3 out
  shift 3
  out=$(mktemp)
  "$agentrt" bench --model "$dir" --prompt-len "$prompt" --gen "$gen" --threads "$threads" --decode-context 1 "$@" \
    >"$out" 2>/dev/null
  "$py" - "$rnd" "$config" "$out" >>"$results" <<'PY'
import json, sys
rnd, config, path = sys.argv[1:]
d = json.load(open(path))
print(json.dumps({"round": int(rnd), "engine": "agentrt", "config": config, "weights": d.get("weights"),
                  "prefill_tok_s": d["prefill"]["tokens_per_s"], "decode_tok_s": d["decode"]["tokens_per_s"],
                  "decode_fraction_of_bound": d["decode"]["fraction_of_bound"],
                  "decode_bytes_per_step": d["decode"]["weight_bytes_per_step"] + d["decode"]["kv_bytes_per_step"],
                  "bandwidth_gb_s": d["memory_bandwidth_gb_s"], "peak_gflop_s": d["peak_gflop_s"],
                  "bandwidth_probes_gb_s": [p["best_gb_s"] for p in d["memory_bandwidth_probes"]],
                  "prefill_cpu_share": d["prefill"]["cpu_share"], "decode_cpu_share": d["decode"]["cpu_share"],
                  "peak_rss_bytes": d["peak_rss_bytes"]}))
PY
  rm -f "$out"
}
# Each run of a pair, as "engine|config|weights|flags".
runs_of() {
  case $1 in
    bf16)
      echo "agentrt|bf16|$model|"
      echo "agentrt|bf16, fp32 prefill activations|$model|--prefill-activations fp32"
      echo "agentrt|bf16, mapped weights|$model|--map-weights"
      echo "llama|F16|$work/gguf/$name-f16.gguf|"
      echo "llama|BF16|$work/gguf/$name-bf16.gguf|" ;;
    int8)
      echo "agentrt|int8|$work/$name-int8|"
      echo "llama|Q8_0|$work/gguf/$name-q8_0.gguf|" ;;
    int4)
      echo "agentrt|int4|$work/$name-int4|"
      echo "llama|Q4_0|$work/gguf/$name-q4_0.gguf|" ;;
  esac
}
# Within a round the runs go in a new random order: in a fixed order each configuration kept its slot of a
# round of fixed length, and this host's read rate, whose swings can be periodic, favoured some slots run after
# run (docs/engine.md).
for ((r = 1; r <= rounds; ++r)); do
  say "round $r/$rounds: ${only//,/, }"
  mapfile -t order < <(for pair in ${only//,/ }; do runs_of "$pair"; done | shuf)
  for item in "${order[@]}"; do
    IFS='|' read -r engine config weights flags <<<"$item"
    if [[ $engine == agentrt ]]; then
      # shellcheck disable=SC2086 # flags are words
      run_agentrt "$r" "$config" "$weights" $flags
    else
      run_llama "$r" "$config" "$weights"
    fi
  done
done

# 5: the summary.
PYTHONPATH=$llama_src/gguf-py${PYTHONPATH:+:$PYTHONPATH} "$py" "$root/scripts/bench/compare_summary.py" \
  "$results" "$work/gguf" "$name" | tee "$work/summary.md"
