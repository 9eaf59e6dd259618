// cuBLASLt opened on first use (dlopen) instead of linked: a linked libcublasLt runs its start-up in every
// agentrt process and holds about 150 MB resident there (3.7 MB with the CUDA runtime alone), CPU-only runs
// and `agentrt --help` included. Only the functions kernels/gemm.cpp calls, typed from <cublasLt.h>.
#pragma once

#include <cublasLt.h>

namespace agentrt::kernels {

// (field, cuBLASLt function): the one list the table and its loader are made from.
#define AGENTRT_CUBLASLT_FUNCTIONS(X)                               \
  X(create, cublasLtCreate)                                         \
  X(destroy, cublasLtDestroy)                                       \
  X(status_string, cublasLtGetStatusString)                         \
  X(matmul, cublasLtMatmul)                                         \
  X(desc_create, cublasLtMatmulDescCreate)                          \
  X(desc_destroy, cublasLtMatmulDescDestroy)                        \
  X(desc_set_attribute, cublasLtMatmulDescSetAttribute)             \
  X(layout_create, cublasLtMatrixLayoutCreate)                      \
  X(layout_destroy, cublasLtMatrixLayoutDestroy)                    \
  X(preference_create, cublasLtMatmulPreferenceCreate)              \
  X(preference_destroy, cublasLtMatmulPreferenceDestroy)            \
  X(preference_set_attribute, cublasLtMatmulPreferenceSetAttribute) \
  X(algo_get_heuristic, cublasLtMatmulAlgoGetHeuristic)

struct CublasLtLibrary {
#define AGENTRT_CUBLASLT_FIELD(field, function) decltype(&::function) field = nullptr;
  AGENTRT_CUBLASLT_FUNCTIONS(AGENTRT_CUBLASLT_FIELD)
#undef AGENTRT_CUBLASLT_FIELD
};

// Opens `library` (a soname or a path) and resolves every function; throws std::runtime_error naming the
// library and what failed (dlerror). The handle stays open for the life of the process.
CublasLtLibrary open_cublaslt(const char* library);

// The toolkit's cuBLASLt, opened once: its soname (the loader's search path, then the executable's
// RUNPATH), else the file the build found. Throws as open_cublaslt, naming both.
const CublasLtLibrary& cublaslt();

}  // namespace agentrt::kernels
