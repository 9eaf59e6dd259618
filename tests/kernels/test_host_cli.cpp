// The command line's CUDA choices as a user meets them: bad --backend values, --backend with a remote or
// scripted backend, and (on a machine without a GPU) the clear refusal of `run` and `bench` on CUDA.
#include <gtest/gtest.h>

#include "engine/cuda/cuda_backend.h"
#include "tests/apps/cli_runner.h"

namespace agentrt::engine::cuda {
namespace {

using agentrt::testing::run_cli;

TEST(CudaCli, BackendFlagIsCheckedAgainstTheOtherBackendFlags) {
  auto r = run_cli("run --backend tpu --script /nonexistent hello");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--backend must be cpu or cuda, not 'tpu'"), std::string::npos) << r.out;
  r = run_cli("run --backend cuda --endpoint http://127.0.0.1:9 hello");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--backend runs a local model"), std::string::npos) << r.out;
  r = run_cli("bench --backend tpu --preset tiny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--backend must be cpu or cuda"), std::string::npos) << r.out;
}

TEST(CudaCli, WithoutAGpuRunAndBenchSaySo) {
  if (device_count() > 0) GTEST_SKIP() << "a GPU is visible: the bench runs in cuda_gpu_tests";
  auto r = run_cli("bench --backend cuda --preset tiny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("no CUDA GPU"), std::string::npos) << r.out;
  r = run_cli("run --backend cuda --tools none hello");  // the bundled demo model, on CUDA
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("no CUDA GPU"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace agentrt::engine::cuda
