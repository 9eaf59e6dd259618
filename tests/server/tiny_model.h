// A tiny random checkpoint (engine/model_maker's "tiny" preset: 0.1M parameters, vocabulary 512), made once
// per test process, for tests that need our own engine behind the server.
#pragma once

#include <filesystem>

#include "engine/model_maker.h"
#include "server_harness.h"

namespace agentrt::testing {

inline const std::filesystem::path& tiny_checkpoint() {
  static const std::filesystem::path dir = [] {
    auto d = fresh_dir("tiny-model");
    engine::MakeModelOptions o;
    o.config = engine::preset_config("tiny");
    o.seed = 1;
    engine::make_model(d, o);
    return d;
  }();
  return dir;
}

}  // namespace agentrt::testing
