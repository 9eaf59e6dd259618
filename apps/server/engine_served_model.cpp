#include "apps/server/engine_served_model.h"

#include "engine/serving/serving_engine.h"

namespace agentrt::server {

std::vector<EngineGauge> serving_gauges(const engine::serving::SchedulerStats& s) {
  const double hit_rate =
      s.prefix_lookup_tokens > 0 ? static_cast<double>(s.prefix_hit_tokens) / s.prefix_lookup_tokens : 0.0;
  return {
      {"agentrt_kv_blocks_total", "KV cache blocks in the pool.", static_cast<double>(s.blocks_total)},
      {"agentrt_kv_blocks_used", "KV cache blocks referenced by running requests.",
       static_cast<double>(s.blocks_used)},
      {"agentrt_kv_blocks_cached", "Unreferenced KV blocks kept for the prefix cache (evicted LRU first).",
       static_cast<double>(s.blocks_cached)},
      {"agentrt_prefix_cache_lookup_tokens", "Prompt tokens of admitted requests (prefix-cache lookups).",
       static_cast<double>(s.prefix_lookup_tokens)},
      {"agentrt_prefix_cache_hit_tokens", "Prompt tokens found in the prefix cache and not prefilled.",
       static_cast<double>(s.prefix_hit_tokens)},
      {"agentrt_prefix_cache_hit_rate", "Prefix-cache hits over lookups, in prompt tokens.", hit_rate},
      {"agentrt_engine_steps", "Forward passes of the batching engine.", static_cast<double>(s.steps)},
  };
}

std::shared_ptr<ConcurrentServedModel> serve_local_engine(std::unique_ptr<agent::LocalEngineBackend> backend,
                                                          std::string id,
                                                          const engine::serving::SchedulerOptions& options) {
  if (backend->serving() == nullptr) backend->start_serving(options);
  const engine::serving::ServingEngine* engine = backend->serving();
  // The engine lives inside the backend, which the served model owns: the sources never outlive it.
  EngineGaugeSource gauges = [engine] { return serving_gauges(engine->stats()); };
  EngineQueueSource queue = [engine] {
    const auto s = engine->stats();
    return EngineQueueDepth{s.waiting, s.running};
  };
  return std::make_shared<ConcurrentServedModel>(std::move(backend), std::move(id), std::move(gauges),
                                                 std::move(queue));
}

}  // namespace agentrt::server
