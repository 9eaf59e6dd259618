#include "sandbox/jail_config.h"

#include <stdexcept>
#include <string>

namespace agentrt::sandbox {

const char* to_string(NamespaceMode mode) {
  switch (mode) {
    case NamespaceMode::Require:
      return "require";
    case NamespaceMode::Off:
      return "off";
    case NamespaceMode::Auto:
      break;
  }
  return "auto";
}

nlohmann::json to_json(const JailOptions& o) {
  return {{"memory_bytes", o.memory_bytes},        {"address_space_base", o.address_space_base},
          {"max_file_bytes", o.max_file_bytes},    {"cpu_seconds", o.cpu_seconds},
          {"max_open_files", o.max_open_files},    {"max_threads", o.max_threads},
          {"namespaces", to_string(o.namespaces)}, {"require_landlock", o.require_landlock},
          {"workspace", o.workspace.string()},     {"tmp_bytes", o.tmp_bytes}};
}

JailOptions jail_options_from_json(const nlohmann::json& j) {
  JailOptions o;
  if (!j.is_object()) return o;
  o.memory_bytes = j.value("memory_bytes", o.memory_bytes);
  o.address_space_base = j.value("address_space_base", o.address_space_base);
  o.max_file_bytes = j.value("max_file_bytes", o.max_file_bytes);
  o.cpu_seconds = j.value("cpu_seconds", o.cpu_seconds);
  o.max_open_files = j.value("max_open_files", o.max_open_files);
  o.max_threads = j.value("max_threads", o.max_threads);
  const std::string mode = j.value("namespaces", std::string("auto"));
  if (mode == "auto") {
    o.namespaces = NamespaceMode::Auto;
  } else if (mode == "require") {
    o.namespaces = NamespaceMode::Require;
  } else if (mode == "off") {
    o.namespaces = NamespaceMode::Off;
  } else {
    throw std::invalid_argument("jail: 'namespaces' must be auto, require or off, not '" + mode + "'");
  }
  o.require_landlock = j.value("require_landlock", o.require_landlock);
  o.workspace = j.value("workspace", std::string());
  o.tmp_bytes = j.value("tmp_bytes", o.tmp_bytes);
  return o;
}

}  // namespace agentrt::sandbox
