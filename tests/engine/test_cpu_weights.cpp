// Where the CPU backend keeps dense weights: copied off the mapped checkpoint by default (huge pages for
// decode, read with MappedFile::copy_out; a long-row down projection as column blocks), in place with
// map_weights; either way the same numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/mapped_file.h"
#include "engine/model_maker.h"
#include "tests/engine/test_support.h"

namespace agentrt::engine {
namespace {

bool inside(const void* p, const TensorView& t) {
  const auto* b = static_cast<const unsigned char*>(t.data);
  const auto* q = static_cast<const unsigned char*>(p);
  return q >= b && q < b + t.bytes;
}

// Logits of a 12-token prefill (every position) and three decode steps after it.
std::vector<float> run(cpu::CpuBackend& backend) {
  const int vocab = backend.config().vocab_size;
  const std::vector<int32_t> prompt = {1, 5, 9, 33, 2, 17, 40, 8, 11, 3, 60, 7};
  std::vector<float> out(prompt.size() * vocab);
  auto cache = backend.new_cache();
  backend.prefill(*cache, prompt, LogitsFor::All, out);
  KvCache* caches[] = {cache.get()};
  for (int32_t token : {12, 4, 25}) {
    std::vector<float> step(vocab);
    const int32_t tokens[] = {token};
    backend.decode(caches, tokens, step);
    out.insert(out.end(), step.begin(), step.end());
  }
  return out;
}

TEST(CpuWeights, DenseWeightsAreCopiedOffTheMappingUnlessMappedAndGiveIdenticalLogits) {
  const auto checkpoint = std::shared_ptr<const Checkpoint>(Checkpoint::open(testing::tiny_model()));
  const ModelWeights& w = checkpoint->weights();
  cpu::CpuBackend copied(checkpoint, cpu::CpuBackendOptions{.threads = 2});
  cpu::CpuBackend mapped(checkpoint, cpu::CpuBackendOptions{.threads = 2, .map_weights = true});

  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const cpu::CpuLayerWeights& c = copied.weights().layer(static_cast<int>(i));
    const cpu::CpuLayerWeights& m = mapped.weights().layer(static_cast<int>(i));
    EXPECT_FALSE(inside(c.wqkv.data, w.layers[i].wqkv)) << "layer " << i;
    ASSERT_EQ(c.w2.size(), 1u);  // rows of 128: no column blocks
    ASSERT_EQ(m.w2.size(), 1u);
    EXPECT_FALSE(inside(c.w2[0].data, w.layers[i].w2)) << "layer " << i;
    EXPECT_EQ(m.wqkv.data, w.layers[i].wqkv.data) << "layer " << i;
    EXPECT_EQ(m.w2[0].data, w.layers[i].w2.data) << "layer " << i;
    // The copy holds the checkpoint's bytes (read back through the mapping, whose copied pages were
    // released).
    ASSERT_EQ(c.w1.bytes(), w.layers[i].w1.bytes);
    EXPECT_EQ(std::memcmp(c.w1.data, w.layers[i].w1.data, w.layers[i].w1.bytes), 0) << "layer " << i;
  }
  EXPECT_FALSE(inside(copied.weights().output().data, w.output));
  EXPECT_EQ(mapped.weights().output().data, w.output.data);

  const std::vector<float> a = run(copied), b = run(mapped);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "logit " << i;
}

// A down projection with rows longer than kColumnBlockFrom is copied as column blocks of kColumnBlock
// (6144 inputs: three), each holding its slice of every row; mapped, it stays one matrix. The logits agree
// to rounding (the blocks' partial sums are added in another order), through decode, fp32 prefill and bf16
// prefill (20 tokens: past kBf16MinTokens).
TEST(CpuWeights, LongDownProjectionRowsAreCopiedAsColumnBlocksWithTheSameLogits) {
  MakeModelOptions options;
  options.config = preset_config("tiny");
  options.config.intermediate_size = 3 * cpu::kColumnBlock;
  options.seed = 5;
  const auto dir = testing::make_test_model("long-ffn-rows", options);
  const auto checkpoint = std::shared_ptr<const Checkpoint>(Checkpoint::open(dir));
  const ModelWeights& w = checkpoint->weights();
  const int hidden = options.config.hidden_size;
  const std::size_t piece = cpu::kColumnBlock * 2;  // bf16: one row's share of a block
  {
    const cpu::CpuBackend copied(checkpoint, cpu::CpuBackendOptions{.threads = 2});
    const cpu::CpuBackend mapped(checkpoint, cpu::CpuBackendOptions{.threads = 2, .map_weights = true});
    for (std::size_t i = 0; i < w.layers.size(); ++i) {
      const auto& blocks = copied.weights().layer(static_cast<int>(i)).w2;
      ASSERT_EQ(blocks.size(), 3u);
      ASSERT_EQ(mapped.weights().layer(static_cast<int>(i)).w2.size(), 1u);
      const auto* source = static_cast<const unsigned char*>(w.layers[i].w2.data);
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        ASSERT_EQ(blocks[b].rows, hidden);
        ASSERT_EQ(blocks[b].cols, cpu::kColumnBlock);
        const auto* block = static_cast<const unsigned char*>(blocks[b].data);
        for (int r = 0; r < hidden; ++r) {
          ASSERT_EQ(std::memcmp(block + r * piece, source + (r * 3 + b) * piece, piece), 0)
              << "layer " << i << ", block " << b << ", row " << r;
        }
      }
    }
    EXPECT_EQ(copied.weights().decode_bytes_per_token(), mapped.weights().decode_bytes_per_token());
  }

  for (const auto prefill : {cpu::PrefillActivations::F32, cpu::PrefillActivations::Bf16}) {
    cpu::CpuBackend copied(checkpoint, cpu::CpuBackendOptions{.threads = 2, .prefill_activations = prefill});
    cpu::CpuBackend mapped(
        checkpoint,
        cpu::CpuBackendOptions{.threads = 2, .map_weights = true, .prefill_activations = prefill});
    const int vocab = copied.config().vocab_size;
    std::vector<int32_t> prompt;
    for (int t = 0; t < 20; ++t) prompt.push_back(1 + (t * 37) % 500);
    std::vector<float> a(prompt.size() * vocab), b(a.size());
    auto ca = copied.new_cache(), cb = mapped.new_cache();
    copied.prefill(*ca, prompt, LogitsFor::All, a);
    mapped.prefill(*cb, prompt, LogitsFor::All, b);
    for (int32_t token : {12, 4, 25}) {
      std::vector<float> sa(vocab), sb(vocab);
      KvCache* caches_a[] = {ca.get()};
      KvCache* caches_b[] = {cb.get()};
      const int32_t tokens[] = {token};
      copied.decode(caches_a, tokens, sa);
      mapped.decode(caches_b, tokens, sb);
      a.insert(a.end(), sa.begin(), sa.end());
      b.insert(b.end(), sb.begin(), sb.end());
    }
    float scale = 0;
    for (float v : b) scale = std::max(scale, std::abs(v));
    ASSERT_GT(scale, 0.0f);
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5f * scale) << "logit " << i;
  }
}

// The copy reads the file with pread: the bytes of the mapping, and clear errors for a range outside it or a
// file cut short after it was mapped (never a SIGBUS from touching the lost pages).
TEST(MappedFile, CopyOutReadsTheMappedBytesAndRefusesRangesItCannotRead) {
  const auto path = testing::temp_dir("mapped-copy-out") / "data.bin";
  std::string bytes(10000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  testing::write_file(path, bytes);
  MappedFile file(path);
  const std::byte* data = file.bytes().data();
  std::string out(5000, '\0');
  file.copy_out(data + 100, out.size(), out.data());
  EXPECT_EQ(out, bytes.substr(100, 5000));
  EXPECT_THROW(file.copy_out(data + 9000, 2000, out.data()), std::out_of_range);
  EXPECT_THROW(file.copy_out(data - 1, 10, out.data()), std::out_of_range);
  std::filesystem::resize_file(path, 4096);
  try {
    file.copy_out(data + 5000, 100, out.data());
    FAIL() << "read past the cut";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shorter than when it was mapped"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace agentrt::engine
