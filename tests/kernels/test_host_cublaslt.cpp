// cuBLASLt is opened when a GPU product first needs it, not at program start (kernels/cublaslt_library.h):
// a process that never multiplies on the GPU never maps it; opening it resolves every function the GEMM
// calls (no GPU needed for that); a library that cannot be opened is a clear error. ctest runs each test in
// its own process, so the first sees the process as the program starts it.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "kernels/cublaslt_library.h"

namespace agentrt::kernels {
namespace {

bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(name) != std::string::npos) return true;
  }
  return false;
}

TEST(CublasLtLibrary, NotMappedUntilAProductNeedsIt) {
  EXPECT_TRUE(mapped("libcudart")) << "the runtime is linked as before";
  EXPECT_FALSE(mapped("libcublasLt"));
  EXPECT_FALSE(mapped("libcublas."));
}

TEST(CublasLtLibrary, OpensTheToolkitsLibraryAndResolvesEveryFunction) {
  const CublasLtLibrary& lt = cublaslt();
  EXPECT_TRUE(mapped("libcublasLt"));
#define AGENTRT_EXPECT_RESOLVED(field, function) EXPECT_NE(lt.field, nullptr) << #function;
  AGENTRT_CUBLASLT_FUNCTIONS(AGENTRT_EXPECT_RESOLVED)
#undef AGENTRT_EXPECT_RESOLVED
  // A call that needs no GPU: the library answers through the resolved pointer.
  const std::string text = lt.status_string(CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(&cublaslt(), &lt) << "opened once";
}

// What open_cublaslt throws for `library` ("" when it opens).
std::string error_of(const char* library) {
  try {
    open_cublaslt(library);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CublasLtLibrary, ALibraryThatCannotBeOpenedIsAClearError) {
  EXPECT_NE(error_of("libcublasLt-missing.so.99").find("cannot load libcublasLt-missing.so.99"),
            std::string::npos);
  // libm opens, but has no cuBLASLt in it.
  EXPECT_NE(error_of("libm.so.6").find("libm.so.6 has no cublasLtCreate"), std::string::npos);
}

}  // namespace
}  // namespace agentrt::kernels
