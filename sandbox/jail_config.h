// JailOptions as JSON: the host writes them for a worker (the Lua worker's --jail argument, the Python
// zygote's spawn request) and the worker reads them back. Descriptors are not part of it.
#pragma once

#include <nlohmann/json.hpp>

#include "sandbox/worker_jail.h"

namespace agentrt::sandbox {

nlohmann::json to_json(const JailOptions& options);
// Missing fields keep their defaults; throws std::invalid_argument for a bad "namespaces" value.
JailOptions jail_options_from_json(const nlohmann::json& j);

const char* to_string(NamespaceMode mode);

}  // namespace agentrt::sandbox
