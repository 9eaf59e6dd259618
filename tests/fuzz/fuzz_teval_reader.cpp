// The T-Eval data reader on arbitrary JSON: the first byte picks the file kind, the rest is the file.
// Malformed data must end in a clear exception, never a crash. fuzz-libs: agentrt_eval
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "eval/teval_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using agentrt::Json;
  static const std::array<const char*, 6> kNames = {"instruct_v1",   "plan_json_v1",
                                                    "plan_str_v1",   "reason_retrieve_understand_json_v1",
                                                    "review_str_v1", "retrieve_str_v1"};
  if (size == 0) return 0;
  const auto kind = agentrt::eval::teval::kind_from_name(kNames[data[0] % kNames.size()]);
  if (!kind) __builtin_trap();
  const Json root = Json::parse(data + 1, data + size, nullptr, false);
  if (root.is_discarded()) return 0;
  try {
    (void)agentrt::eval::teval::parse_dataset(root, *kind, "fuzz.json");
  } catch (const std::exception&) {
  }
  return 0;
}
