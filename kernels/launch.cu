// Whether kernels are launched as programmatic dependents (see launch_chained in common.cuh).
#include <cstdlib>
#include <cstring>

#include "kernels/common.cuh"
#include "kernels/kernels.h"

namespace agentrt::kernels::detail {

namespace {

bool decide() {
  if (const char* setting = std::getenv("AGENTRT_CUDA_PDL");
      setting != nullptr && std::strcmp(setting, "0") == 0)
    return false;
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
  return major >= 9;
}

}  // namespace

bool chained_launch_enabled() {
  static const bool enabled = decide();
  return enabled;
}

}  // namespace agentrt::kernels::detail

namespace agentrt::kernels {

bool programmatic_launch_enabled() {
  return detail::chained_launch_enabled();
}

}  // namespace agentrt::kernels
