// Sampling on the GPU, so a decode step can end without copying the logits to the host: greedy argmax, and
// temperature / top-k / top-p found by bisection on the logit value (no sort of the vocabulary; each round is
// one block-wide count or sum over the row, which stays in L1/L2).

#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr int kThreads = 1024;
constexpr int kBisectionRounds = 64;  // stops earlier once no float lies between the bounds

__global__ void __launch_bounds__(kThreads)
    argmax_kernel(const float* __restrict__ logits, int32_t* out, int vocab) {
  __shared__ float best_value[32];
  __shared__ int best_index[32];
  detail::await_producer();
  detail::release_dependents();
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vocab;
  float value = -INFINITY;
  int index = vocab;  // larger than any real index: loses every tie
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    if (row[i] > value || (index == vocab && !(row[i] < value))) {
      value = row[i];
      index = i;
    }
  }
  // The larger value wins; on equal values the smaller index (std::max_element keeps the first).
  const auto better = [](float v, int i, float ov, int oi) { return ov > v || (ov == v && oi < i); };
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float ov = __shfl_xor_sync(detail::kFullMask, value, offset);
    const int oi = __shfl_xor_sync(detail::kFullMask, index, offset);
    if (better(value, index, ov, oi)) value = ov, index = oi;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) best_value[warp] = value, best_index[warp] = index;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x >> 5;
    value = lane < warps ? best_value[lane] : -INFINITY;
    index = lane < warps ? best_index[lane] : vocab;
    for (int offset = 16; offset > 0; offset >>= 1) {
      const float ov = __shfl_xor_sync(detail::kFullMask, value, offset);
      const int oi = __shfl_xor_sync(detail::kFullMask, index, offset);
      if (better(value, index, ov, oi)) value = ov, index = oi;
    }
    if (lane == 0) out[blockIdx.x] = index < vocab ? index : 0;
  }
}

// How many of the row's scaled logits are >= threshold (as_mass false), or their mass exp(x - max) (true).
__device__ float count_at_least(const float* row, int vocab, float inv_temperature, float max_x,
                                float threshold, bool as_mass, float* scratch) {
  float local = 0.0f;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float x = row[i] * inv_temperature;
    if (x >= threshold) local += as_mass ? expf(x - max_x) : 1.0f;
  }
  return detail::block_sum(local, scratch);
}

// The largest threshold in [lo, hi] whose count (or mass) still reaches `target`; count(lo) >= target holds.
__device__ float bisect(const float* row, int vocab, float inv_temperature, float max_x, float lo, float hi,
                        float target, bool as_mass, float* scratch) {
  if (count_at_least(row, vocab, inv_temperature, max_x, hi, as_mass, scratch) >= target) return hi;
  for (int round = 0; round < kBisectionRounds; ++round) {
    const float mid = lo + (hi - lo) * 0.5f;
    if (!(mid > lo && mid < hi)) break;  // uniform across the block: every thread holds the same bounds
    if (count_at_least(row, vocab, inv_temperature, max_x, mid, as_mass, scratch) >= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

__global__ void __launch_bounds__(kThreads)
    sample_kernel(const float* __restrict__ logits, const float* __restrict__ uniform, int32_t* out,
                  int vocab, float inv_temperature, int top_k, float top_p) {
  __shared__ float scratch[32];
  __shared__ float prefix[kThreads];
  __shared__ int chosen;
  detail::await_producer();
  detail::release_dependents();
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vocab;

  float local_max = -INFINITY, local_min = INFINITY;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float x = row[i] * inv_temperature;
    local_max = fmaxf(local_max, x);
    local_min = fminf(local_min, x);
  }
  const float max_x = detail::block_max(local_max, scratch);
  const float min_x = -detail::block_max(-local_min, scratch);

  float threshold = min_x;
  if (top_k > 0 && top_k < vocab) {
    threshold =
        bisect(row, vocab, inv_temperature, max_x, min_x, max_x, static_cast<float>(top_k), false, scratch);
  }
  if (top_p < 1.0f) {
    const float kept = count_at_least(row, vocab, inv_temperature, max_x, threshold, true, scratch);
    threshold = bisect(row, vocab, inv_temperature, max_x, threshold, max_x, top_p * kept, true, scratch);
  }

  // Each thread owns a contiguous slice of the row; an exclusive scan of the slices' kept mass finds the
  // slice holding the target, which its thread walks.
  const int slice = (vocab + blockDim.x - 1) / blockDim.x;
  const int first = threadIdx.x * slice, last = min(vocab, first + slice);
  float own = 0.0f;
  for (int i = first; i < last; ++i) {
    const float x = row[i] * inv_temperature;
    if (x >= threshold) own += expf(x - max_x);
  }
  prefix[threadIdx.x] = own;
  if (threadIdx.x == 0) chosen = -1;
  __syncthreads();
  for (int offset = 1; offset < static_cast<int>(blockDim.x); offset <<= 1) {  // Hillis-Steele inclusive scan
    const float add = threadIdx.x >= offset ? prefix[threadIdx.x - offset] : 0.0f;
    __syncthreads();
    prefix[threadIdx.x] += add;
    __syncthreads();
  }
  const float total = prefix[blockDim.x - 1];
  const float target = uniform[blockIdx.x] * total;
  const float before = prefix[threadIdx.x] - own;
  if (own > 0.0f && target >= before && target < before + own) {
    float running = before;
    int pick = -1;
    for (int i = first; i < last; ++i) {
      const float x = row[i] * inv_temperature;
      if (x < threshold) continue;
      pick = i;  // the last kept token of the slice, if rounding leaves the target past the walk
      running += expf(x - max_x);
      if (target < running) break;
    }
    chosen = pick;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int pick = chosen;
    if (pick < 0) {  // rounding put the target at the very end: the last kept token
      for (int i = vocab - 1; i >= 0; --i) {
        if (row[i] * inv_temperature >= threshold) {
          pick = i;
          break;
        }
      }
    }
    out[blockIdx.x] = pick < 0 ? 0 : pick;
  }
}

}  // namespace

cudaError_t argmax_rows(const float* logits, int32_t* out, int rows, int vocab, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  return detail::launch_chained(argmax_kernel, rows, kThreads, stream, 0, logits, out, vocab);
}

cudaError_t sample_top_k_top_p(const float* logits, const float* uniform, int32_t* out, int rows, int vocab,
                               float temperature, int top_k, float top_p, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (!(temperature > 0.0f) || !(top_p > 0.0f)) return cudaErrorInvalidValue;
  return detail::launch_chained(sample_kernel, rows, kThreads, stream, 0, logits, uniform, out, vocab,
                                1.0f / temperature, top_k, top_p);
}

}  // namespace agentrt::kernels
