// The local engine served with continuous batching: a LocalEngineBackend switched to its serving engine,
// wrapped as a ConcurrentServedModel whose queue depth and gauges (KV blocks, prefix cache) come from the
// engine itself.
#pragma once

#include <memory>
#include <string>

#include "agent/backends/backend_local.h"
#include "apps/server/served_model.h"

namespace agentrt::server {

// Starts `backend`'s serving engine with `options` unless it runs already; throws std::invalid_argument as
// LocalEngineBackend::start_serving does.
std::shared_ptr<ConcurrentServedModel> serve_local_engine(std::unique_ptr<agent::LocalEngineBackend> backend,
                                                          std::string id,
                                                          const engine::serving::SchedulerOptions& options);

// The /metrics gauges of a serving engine's counters.
std::vector<EngineGauge> serving_gauges(const engine::serving::SchedulerStats& stats);

}  // namespace agentrt::server
