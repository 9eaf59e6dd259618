// config.json parsing (every field, the three rope_scaling variants) and the RoPE base it implies.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/config.h"
#include "engine/dtype.h"
#include "engine/model_maker.h"
#include "engine/qkv_layout.h"

namespace agentrt::engine {
namespace {

nlohmann::json internlm2_chat_7b_config() {
  // The fields of internlm2-chat-7b's config.json.
  return nlohmann::json::parse(R"({
    "architectures": ["InternLM2ForCausalLM"],
    "attn_implementation": "eager",
    "auto_map": {"AutoConfig": "configuration_internlm2.InternLM2Config",
                 "AutoModelForCausalLM": "modeling_internlm2.InternLM2ForCausalLM",
                 "AutoModel": "modeling_internlm2.InternLM2ForCausalLM"},
    "bias": false, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
    "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
    "model_type": "internlm2", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "pad_token_id": 2, "rms_norm_eps": 1e-05, "rope_scaling": {"type": "dynamic", "factor": 2.0},
    "rope_theta": 1000000, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "transformers_version": "4.33.2", "use_cache": true, "vocab_size": 92544})");
}

TEST(ModelConfig, ParsesEveryField) {
  const auto c = parse_model_config(internlm2_chat_7b_config());
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.head_dim(), 128);
  EXPECT_EQ(c.group_size(), 4);
  EXPECT_EQ(c.qkv_rows(), (32 + 16) * 128);
  EXPECT_EQ(c.rope_scaling, RopeScaling::Dynamic);
  EXPECT_DOUBLE_EQ(c.rope_scaling_factor, 2.0);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.transformers_version, "4.33.2");
  EXPECT_EQ(c.attn_implementation, "eager");
  EXPECT_EQ(c.auto_map["AutoConfig"], "configuration_internlm2.InternLM2Config");
  EXPECT_NEAR(static_cast<double>(c.parameter_count()), 7.74e9, 0.01e9);
  // Writing and reading back keeps everything.
  const auto again = parse_model_config(to_json(c));
  EXPECT_EQ(to_json(again), to_json(c));
}

TEST(ModelConfig, ThreeRopeScalingVariants) {
  auto json = internlm2_chat_7b_config();
  json["rope_scaling"] = nullptr;
  EXPECT_EQ(parse_model_config(json).rope_scaling, RopeScaling::None);
  json["rope_scaling"] = {{"type", "dynamic"}, {"factor", 1.0}};
  const auto f1 = parse_model_config(json);
  EXPECT_EQ(f1.rope_scaling, RopeScaling::Dynamic);
  EXPECT_DOUBLE_EQ(f1.rope_scaling_factor, 1.0);
  json["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  EXPECT_DOUBLE_EQ(parse_model_config(json).rope_scaling_factor, 2.0);
  json["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  EXPECT_EQ(parse_model_config(json).rope_scaling, RopeScaling::Linear);
  EXPECT_DOUBLE_EQ(rope_position_scale(parse_model_config(json)), 0.25);
  json.erase("rope_scaling");
  EXPECT_EQ(parse_model_config(json).rope_scaling, RopeScaling::None);
}

TEST(ModelConfig, DynamicNtkBaseGrowsOnlyPastMaxPositions) {
  auto json = internlm2_chat_7b_config();
  const auto c = parse_model_config(json);
  EXPECT_DOUBLE_EQ(rope_base_for_length(c, 32768), 1e6);
  // base' = theta * ((f * L / max) - (f - 1)) ^ (d / (d - 2)), L = 65536, f = 2: (4 - 1) ^ (128 / 126).
  EXPECT_NEAR(rope_base_for_length(c, 65536), 1e6 * std::pow(3.0, 128.0 / 126.0), 1e-3);
  json["rope_scaling"] = nullptr;
  EXPECT_DOUBLE_EQ(rope_base_for_length(parse_model_config(json), 65536), 1e6);
}

TEST(ModelConfig, PresetsHaveTheSpecShapes) {
  const auto small = preset_config("1_8b");
  EXPECT_EQ(small.hidden_size, 2048);
  EXPECT_EQ(small.num_hidden_layers, 24);
  EXPECT_EQ(small.num_attention_heads, 16);
  EXPECT_EQ(small.intermediate_size, 8192);
  EXPECT_EQ(small.vocab_size, 92544);
  EXPECT_EQ(preset_config("20b").hidden_size, 6144);
  EXPECT_EQ(preset_config("7b").num_key_value_heads, 8);
  EXPECT_THROW(preset_config("3b"), std::invalid_argument);
}

TEST(QkvLayout, FollowsTheSpecRowFormula) {
  // nh = 8, nkv = 2 (g = 4), d = 16: row (k*(g+2) + j)*d.
  auto c = parse_model_config(internlm2_chat_7b_config());
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  c.hidden_size = 128;
  const QkvLayout layout(c);
  EXPECT_EQ(layout.query_row(0), 0);
  EXPECT_EQ(layout.query_row(3), 3 * 16);
  EXPECT_EQ(layout.key_row(0), 4 * 16);
  EXPECT_EQ(layout.value_row(0), 5 * 16);
  EXPECT_EQ(layout.query_row(4), 6 * 16);
  EXPECT_EQ(layout.query_row(7), 9 * 16);
  EXPECT_EQ(layout.key_row(1), 10 * 16);
  EXPECT_EQ(layout.value_row(1), 11 * 16);
}

TEST(DType, Conversions) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // halfway: ties to even
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);
  for (const float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f}) {
    EXPECT_EQ(f16_to_f32(f32_to_f16(v)), v) << v;
  }
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
  EXPECT_EQ(dtype_from_name("F64"), std::nullopt);
}

}  // namespace
}  // namespace agentrt::engine
