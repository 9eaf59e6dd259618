// Kernel benchmarks, every variant next to its baseline (the portable kernels): a weight-matrix product of a
// 1.8B layer's shape (2048 x 2048) for decode (1 token, memory bound) and prefill (64 and 256 tokens,
// compute bound), one thread each, for bf16, int8 and int4 weights and each product path (fp32 activations,
// int8 activations for the integer products, bf16 activations for vdpbf16ps). Counters: GFLOP/s and weight
// bytes read per second. Attention over one head (d 128, 512 positions of a KV row of 8 heads, fp32 and
// int8): the batched primitives (Kernels::scores/mix) next to one dot/axpy call per position, the loop they
// replaced. DecodeStream: decode (one token) over 512 MiB of bf16 matrices on huge pages, far past the
// last-level cache, on two threads through the backend's MatmulRunner, for the FFN's two shapes (rows of 2048
// and of 8192 inputs), next to plain reads of the same bytes (Kernels::read_bytes): how close decode comes to
// what the memory gives at all; DecodeStreamPaired the same with each product pass timed against a read pass
// just before it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu/kernels.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/quantized_matrix.h"
#include "engine/cpu/thread_pool.h"

namespace agentrt::engine::cpu {
namespace {

constexpr int kRows = 2048;
constexpr int kCols = 2048;

enum class Path { F32, Integer, Bf16 };

struct Matrix {
  std::vector<uint16_t> bf16;
  std::unique_ptr<QuantizedMatrix> quantized;
  WeightMatrix view;
};

Matrix make(WeightFormat format) {
  Matrix m;
  std::mt19937 rng(1);
  if (format == WeightFormat::Dense) {
    m.bf16.resize(static_cast<std::size_t>(kRows) * kCols);
    for (std::size_t i = 0; i < m.bf16.size(); ++i)
      m.bf16[i] = f32_to_bf16(static_cast<float>(i % 97) / 97.0f - 0.5f);
    m.view = WeightMatrix{m.bf16.data(), DType::BF16, kRows, kCols};
    return m;
  }
  m.quantized = std::make_unique<QuantizedMatrix>(format, kRows, kCols);
  std::vector<int8_t> q8(kCols);
  std::vector<uint8_t> q4(kCols), zeros(kCols / kQuantGroup, 8);
  std::vector<float> scales(kCols / kQuantGroup, 0.01f);
  for (int r = 0; r < kRows; ++r) {
    for (int k = 0; k < kCols; ++k) {
      q8[k] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
      q4[k] = static_cast<uint8_t>(rng() % 16);
    }
    if (format == WeightFormat::Int8) {
      m.quantized->set_int8_row(r, q8.data(), 0.01f);
    } else {
      m.quantized->set_int4_row(r, q4.data(), zeros.data(), scales.data());
    }
  }
  m.view = m.quantized->view();
  return m;
}

void BM_Matmul(benchmark::State& state, const std::string& variant, WeightFormat format, Path path) {
  const Kernels* kernels = kernels_by_name(variant);
  if (kernels == nullptr) {
    state.SkipWithError(("this processor lacks the " + variant + " kernels").c_str());
    return;
  }
  if (path == Path::Bf16 && kernels->matmul_bf16 == nullptr) {
    state.SkipWithError("no bf16 dot product in this variant");
    return;
  }
  const int m = static_cast<int>(state.range(0));
  const Matrix w = make(format);
  std::vector<float> x(static_cast<std::size_t>(m) * kCols, 0.25f), y(static_cast<std::size_t>(m) * kRows);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) / 13.0f - 0.5f;
  QuantizedInputBuffer quantized;
  Bf16InputBuffer bf16;
  for (auto _ : state) {
    // The activations are prepared inside the loop, as the backend does once per product.
    if (path == Path::Integer) {
      const QuantizedInput& in = quantized.quantize(*kernels, x.data(), m, kCols, kCols);
      kernels->matmul_quantized(w.view, in, y.data(), kRows, 0, kRows);
    } else if (path == Path::Bf16) {
      const Bf16Input& in = bf16.convert(x.data(), m, kCols, kCols);
      kernels->matmul_bf16(w.view, in, y.data(), kRows, 0, kRows);
    } else {
      kernels->matmul(w.view, x.data(), m, kCols, y.data(), kRows, 0, kRows);
    }
    benchmark::DoNotOptimize(y.data());
  }
  const double flop = 2.0 * m * kRows * kCols;
  state.counters["GFLOP/s"] = benchmark::Counter(flop / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(w.view.bytes()) / 1e9,
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

// Rows8192InBlocks: [2048, 8192] matrices stored as four contiguous column blocks [2048, 2048], multiplied
// block by block with the partial products added up, as the CPU backend keeps the FFN down projection
// (cpu_weights.h).
enum class StreamShape { Rows2048, Rows8192, Rows8192InBlocks };

// 512 MiB of bf16 matrices of one shape on huge pages, far past the last-level cache, with the pass over them
// that reads them plainly and the one that multiplies by them (decode, one token).
class DecodeStream {
 public:
  static constexpr std::size_t kBytes = 512u << 20;

  DecodeStream(StreamShape shape, int threads)
      : threads_(threads),
        cols_(shape == StreamShape::Rows2048 ? 2048 : 8192),
        rows_(shape == StreamShape::Rows2048 ? 8192 : 2048),  // [rows, cols] bf16: 32 MiB a matrix
        blocks_(shape == StreamShape::Rows8192InBlocks ? 4 : 1),
        weights_(kBytes),
        pool_(threads),
        kernels_(best_kernels()),
        runner_(kernels_, pool_),
        x_(cols_),
        y_(rows_),
        partial_(rows_) {
    auto* w = reinterpret_cast<uint16_t*>(weights_.data());
    for (std::size_t i = 0; i < kBytes / 2; ++i)
      w[i] = f32_to_bf16(static_cast<float>(i % 97) / 97.0f - 0.5f);
    for (int k = 0; k < cols_; ++k) x_[k] = static_cast<float>(k % 13) / 13.0f - 0.5f;
  }

  // Each thread one contiguous part, as the product's row chunks roughly are.
  void read() {
    pool_.run(threads_, [&](int t, int) {
      const std::size_t part = kBytes / threads_;
      sink_ += kernels_.read_bytes(weights_.data() + t * part, part);
    });
    benchmark::DoNotOptimize(sink_.load());
  }

  void multiply() {
    const std::size_t matrix_bytes = static_cast<std::size_t>(rows_) * cols_ * 2;
    const int block_cols = cols_ / blocks_;
    for (std::size_t at = 0; at + matrix_bytes <= kBytes; at += matrix_bytes) {
      for (int b = 0; b < blocks_; ++b) {
        const WeightMatrix m{weights_.data() + at + b * (matrix_bytes / blocks_), DType::BF16, rows_,
                             block_cols};
        runner_.run(m, x_.data() + b * block_cols, 1, cols_, b == 0 ? y_.data() : partial_.data(), rows_);
        if (b > 0)
          for (int r = 0; r < rows_; ++r) y_[r] += partial_[r];
      }
    }
    benchmark::DoNotOptimize(y_.data());
  }

  const char* kernels_name() const { return kernels_.name; }

 private:
  int threads_, cols_, rows_, blocks_;
  PageBuffer weights_;
  ThreadPool pool_;
  const Kernels& kernels_;
  MatmulRunner runner_;
  std::vector<float> x_, y_, partial_;  // x [cols], y and partial [rows]
  std::atomic<uint64_t> sink_{0};
};

void BM_DecodeStream(benchmark::State& state, StreamShape shape, bool products) {
  DecodeStream stream(shape, static_cast<int>(state.range(0)));
  for (auto _ : state) products ? stream.multiply() : stream.read();
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(DecodeStream::kBytes) / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(stream.kernels_name());
}

// A plain read of the 512 MiB and then the products over the same bytes, pair after pair: the host's read
// rate moves from one pass to the next (docs/engine.md), so only passes next to each other in time compare.
// Counter of_read: the median over pairs of read time / product time, the product's share of what plain loads
// get at that moment.
void BM_DecodeStreamPaired(benchmark::State& state, StreamShape shape) {
  DecodeStream stream(shape, static_cast<int>(state.range(0)));
  std::vector<double> shares, read_rates, product_rates;
  using Clock = std::chrono::steady_clock;
  const double gb = static_cast<double>(DecodeStream::kBytes) / 1e9;
  for (auto _ : state) {
    const auto start = Clock::now();
    stream.read();
    const auto read_done = Clock::now();
    stream.multiply();
    const double read_s = std::chrono::duration<double>(read_done - start).count();
    const double product_s = std::chrono::duration<double>(Clock::now() - read_done).count();
    shares.push_back(read_s / product_s);
    read_rates.push_back(gb / read_s);
    product_rates.push_back(gb / product_s);
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  state.counters["of_read"] = median(shares);
  state.counters["read_GB/s"] = median(read_rates);
  state.counters["product_GB/s"] = median(product_rates);
  state.SetLabel(stream.kernels_name());
}

enum class AttentionPath { PerPosition, Batched };

// One head's decode attention: scores against every position, then the weighted sum of the values.
void BM_Attention(benchmark::State& state, const std::string& variant, bool int8, AttentionPath path) {
  const Kernels* kernels = kernels_by_name(variant);
  if (kernels == nullptr) {
    state.SkipWithError(("this processor lacks the " + variant + " kernels").c_str());
    return;
  }
  constexpr int kHead = 128, kKvHeads = 8;
  constexpr std::size_t kStride = static_cast<std::size_t>(kHead) * kKvHeads;
  const int count = static_cast<int>(state.range(0));
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> q(kHead), k(kStride * count), v(kStride * count), scale(kKvHeads * count, 0.01f);
  std::vector<int8_t> k8(kStride * count), v8(kStride * count);  // [count, kKvHeads, kHead]
  for (float& x : q) x = uniform(rng);
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = uniform(rng);
    v[i] = uniform(rng);
    k8[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    v8[i] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  }
  std::vector<float> scores(count), out(kHead);
  for (auto _ : state) {
    if (path == AttentionPath::Batched) {
      if (int8) {
        kernels->scores_i8(q.data(), k8.data(), kStride, scale.data(), kKvHeads, count, kHead, scores.data());
        kernels->mix_i8(scores.data(), v8.data(), kStride, scale.data(), kKvHeads, count, kHead, out.data());
      } else {
        kernels->scores(q.data(), k.data(), kStride, count, kHead, scores.data());
        kernels->mix(scores.data(), v.data(), kStride, count, kHead, out.data());
      }
    } else {
      for (int i = 0; i < count; ++i) {
        const std::size_t at = static_cast<std::size_t>(i) * kStride;
        scores[i] = int8 ? kernels->dot_i8(q.data(), k8.data() + at, kHead) * scale[i * kKvHeads]
                         : kernels->dot(q.data(), k.data() + at, kHead);
      }
      for (int i = 0; i < count; ++i) {
        const std::size_t at = static_cast<std::size_t>(i) * kStride;
        if (int8) {
          kernels->axpy_i8(scores[i] * scale[i * kKvHeads], v8.data() + at, out.data(), kHead);
        } else {
          kernels->axpy(scores[i], v.data() + at, out.data(), kHead);
        }
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["positions/s"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  struct Stream {
    const char* name;
    StreamShape shape;
    bool products;
  };
  for (const Stream stream : {Stream{"read", StreamShape::Rows2048, false},
                              Stream{"gemv_bf16/rows_of_2048", StreamShape::Rows2048, true},
                              Stream{"gemv_bf16/rows_of_8192", StreamShape::Rows8192, true}}) {
    benchmark::RegisterBenchmark(
        (std::string("DecodeStream/") + stream.name).c_str(),
        [=](benchmark::State& s) { BM_DecodeStream(s, stream.shape, stream.products); })
        ->Arg(2)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto& [name, shape] :
       {std::pair{"rows_of_2048", StreamShape::Rows2048}, std::pair{"rows_of_8192", StreamShape::Rows8192},
        std::pair{"rows_of_8192_in_blocks_of_2048", StreamShape::Rows8192InBlocks}}) {
    const StreamShape stream_shape = shape;
    benchmark::RegisterBenchmark(
        (std::string("DecodeStreamPaired/") + name).c_str(),
        [stream_shape](benchmark::State& s) { BM_DecodeStreamPaired(s, stream_shape); })
        ->Arg(2)
        ->Iterations(100)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const std::string variant : {"portable", "avx2", "avx512", "avx512_vnni", "avx512_bf16"}) {
    const auto add = [&](const std::string& what, WeightFormat format, Path path, std::vector<int> ms) {
      auto* b =
          benchmark::RegisterBenchmark(("Matmul/" + variant + "/" + what).c_str(),
                                       [=](benchmark::State& s) { BM_Matmul(s, variant, format, path); });
      for (const int m : ms) b->Arg(m);
      b->Unit(benchmark::kMillisecond);
    };
    const std::vector<int> prefill =
        variant == "portable" ? std::vector<int>{1, 64} : std::vector<int>{1, 64, 256};
    add("bf16", WeightFormat::Dense, Path::F32, prefill);
    add("bf16_bf16act", WeightFormat::Dense, Path::Bf16, {64, 256});
    add("int8_int8act", WeightFormat::Int8, Path::Integer, {1, 4});
    add("int4_int8act", WeightFormat::Int4, Path::Integer, {1, 4});
    add("int8", WeightFormat::Int8, Path::F32, {64});
    add("int4", WeightFormat::Int4, Path::F32, {64});
    add("int4_bf16act", WeightFormat::Int4, Path::Bf16, {256});
    for (const bool int8 : {false, true}) {
      for (const AttentionPath path : {AttentionPath::PerPosition, AttentionPath::Batched}) {
        const std::string name = std::string("Attention/") + variant + (int8 ? "/int8_kv" : "/fp32_kv") +
                                 (path == AttentionPath::Batched ? "/batched" : "/per_position");
        benchmark::RegisterBenchmark(name.c_str(),
                                     [=](benchmark::State& s) { BM_Attention(s, variant, int8, path); })
            ->Arg(512)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace
}  // namespace agentrt::engine::cpu

int main(int argc, char** argv) {
  agentrt::engine::cpu::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
