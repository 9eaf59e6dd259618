#!/usr/bin/env bash
# AgentRT's CUDA backend against llama.cpp on one GPU and the same weights (docs/cuda.md, "Against llama.cpp").
# Runs everything in order, never waits on a prompt, and times its stages:
#   1. the GPU tests (cuda_gpu_tests) and compute-sanitizer memcheck over the quantized kernels and model tests,
#      while a random checkpoint of the 7B shape is written (agentrt make-model --preset 7b), converted by
#      llama.cpp's convert_hf_to_gguf.py to F16 GGUF and quantized by its llama-quantize to Q8_0 and Q4_0;
#   2. agentrt bench --backend cuda on that checkpoint with bf16, int8 and int4 weights (quantized at load from
#      the same bf16 weights), each with the copy bandwidth and GEMM rate measured in the same run;
#   3. llama-bench (prefill 512/2048/8192, decode 128 tokens at batch 1) and llama-batched-bench (decode at
#      batch 1/8/32/64 after 512-token prompts) on F16, Q8_0 and Q4_0, flash attention on.
#
#   scripts/bench/gpu_vs_llamacpp.sh DIR OUT
#
# DIR holds bin/ (agentrt, cuda_gpu_tests, llama-bench, llama-batched-bench, llama-quantize), lib/ (their
# shared libraries but the CUDA driver's and toolkit's) and llama/ (convert_hf_to_gguf.py and gguf-py from the
# same llama.cpp commit). OUT receives one JSON file per stage, the logs and summary.json. WORK (default
# /tmp/agentrt-gpu) holds the weights (about 42 GB for 7b). PRESET (default 7b) picks the shape; CONVERT
# replaces the converter's command (called as: $CONVERT SRC --outtype f16 --outfile F).
set -uo pipefail
dir=$(cd "$1" && pwd)
out=$2
work=${WORK:-/tmp/agentrt-gpu}
preset=${PRESET:-7b}
convert=${CONVERT:-python3 $dir/llama/convert_hf_to_gguf.py}
mkdir -p "$out" "$work"
export PYTHONPATH="$dir/llama/gguf-py:${PYTHONPATH:-}"
export PATH="$PATH:/usr/local/cuda/bin"
start=$(date +%s)
stage() { echo "== $(($(date +%s) - start)) s: $*" | tee -a "$out/stages.log"; }
bin=$dir/bin

# The carried binaries' libraries, only for them (python3 and the system keep their own): cuBLAS and the CUDA
# runtime from the machine's toolkit, the rest carried; the carried C++ runtime only if the machine's is older.
cuda_libs=""
for name in libcublasLt.so.13 libcudart.so.13; do
  found=$(find /usr/local /usr/lib /opt -name "$name*" 2>/dev/null | head -1)
  [[ -n "$found" ]] && cuda_libs="$cuda_libs:$(dirname "$found")"
done
libs="$dir/lib$cuda_libs"
if ! LD_LIBRARY_PATH="$libs" "$bin/agentrt" --help >/dev/null 2>&1; then libs="$dir/lib:$dir/lib-cxx$cuda_libs"; fi
echo "LD_LIBRARY_PATH for the carried binaries: $libs" >>"$out/stages.log"
LD_LIBRARY_PATH="$libs" ldd "$bin/agentrt" "$bin/llama-bench" | grep "not found" >>"$out/stages.log"
run() { LD_LIBRARY_PATH="$libs" "$@"; }

stage "machine"
{ nvidia-smi -L; ldd --version | head -1; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; nproc;
  df -h "$work" | tail -1; } >"$out/machine.txt" 2>&1

# 1. Weights in the background; the GPU tests meanwhile.
(
  stage "make-model $preset"
  run "$bin/agentrt" make-model --preset "$preset" --seed 23 --out "$work/internlm2-$preset-random" || exit 1
  stage "convert to F16 GGUF"
  $convert "$work/internlm2-$preset-random" --outtype f16 --outfile "$work/$preset-f16.gguf" || exit 1
  for q in Q8_0 Q4_0; do
    stage "llama-quantize $q"
    run "$bin/llama-quantize" "$work/$preset-f16.gguf" "$work/$preset-${q,,}.gguf" "$q" 8 || exit 1
  done
  stage "weights ready"
) >"$out/weights.log" 2>&1 &
weights=$!

stage "cuda_gpu_tests"
timeout 180 env LD_LIBRARY_PATH="$libs" "$bin/cuda_gpu_tests" --gtest_output="json:$out/gpu_tests.json" >"$out/gpu_tests.log" 2>&1
echo "cuda_gpu_tests exit $?" >>"$out/stages.log"
stage "compute-sanitizer memcheck (quantized kernels and model)"
timeout 90 env LD_LIBRARY_PATH="$libs" compute-sanitizer --tool memcheck --print-limit 20 "$bin/cuda_gpu_tests" \
  --gtest_filter='QuantKernelTest.*:Formats/QuantModelTest.*:QuantCheckpointTest.AnAwq*' \
  >"$out/memcheck.log" 2>&1
echo "memcheck exit $?" >>"$out/stages.log"

wait "$weights"
echo "weights exit $?" >>"$out/stages.log"
tail -3 "$out/weights.log"

# 2. Ours, on the same bf16 checkpoint.
for w in auto int8 int4; do
  stage "agentrt bench --weights $w"
  timeout 120 env LD_LIBRARY_PATH="$libs" "$bin/agentrt" bench --backend cuda --model "$work/internlm2-$preset-random" --weights "$w" --gen 128 \
    >"$out/agentrt-$w.json" 2>"$out/agentrt-$w.err"
  echo "agentrt $w exit $?" >>"$out/stages.log"
done

# 3. llama.cpp, same weights.
for q in f16 q8_0 q4_0; do
  stage "llama-bench $q"
  timeout 90 env LD_LIBRARY_PATH="$libs" "$bin/llama-bench" -m "$work/$preset-$q.gguf" -ngl 99 -fa 1 -p 512,2048,8192 -n 128 -r 2 -o json \
    >"$out/llama-bench-$q.json" 2>"$out/llama-bench-$q.err"
  echo "llama-bench $q exit $?" >>"$out/stages.log"
  stage "llama-batched-bench $q"
  timeout 90 env LD_LIBRARY_PATH="$libs" "$bin/llama-batched-bench" -m "$work/$preset-$q.gguf" -ngl 99 -fa -c 42000 -b 2048 -ub 512 \
    -npp 512 -ntg 128 -npl 1,8,32,64 >"$out/llama-batched-$q.txt" 2>"$out/llama-batched-$q.err"
  echo "llama-batched-bench $q exit $?" >>"$out/stages.log"
done
stage "summary"
python3 "$(dirname "${BASH_SOURCE[0]}")/gpu_summary.py" "$out" >"$out/summary.json"
stage "done"
