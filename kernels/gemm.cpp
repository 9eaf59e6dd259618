// cuBLASLt bf16 products for prefill and batched decode. cuBLAS is column-major: y[m, n] row-major is the
// column-major n x m matrix W (k x n column-major, transposed) times X^T (k x m column-major).
#include <cublasLt.h>

#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;  // what cuBLASLt's heuristics ask for on Hopper at most

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuBLASLt ") + what + ": " + cublasGetStatusString(status));
  }
}

struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

}  // namespace

struct Gemm::State {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  std::map<std::tuple<int, int, int, int>, Plan> plans;  // (m, n, k, out type)

  Plan& plan(int m, int n, int k, OutType out) {
    const auto key = std::make_tuple(m, n, k, static_cast<int>(out));
    if (auto it = plans.find(key); it != plans.end()) return it->second;
    Plan p;
    check(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "descriptor");
    const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose),
          "transa");
    check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none), "transb");
    const cudaDataType_t out_type = out == OutType::F32 ? CUDA_R_32F : CUDA_R_16BF;
    check(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16BF, k, n, k), "layout A");  // W^T: k x n, ld k
    check(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, k, m, k), "layout B");  // X^T: k x m, ld k
    check(cublasLtMatrixLayoutCreate(&p.c, out_type, n, m, n), "layout C");     // Y^T: n x m, ld n
    cublasLtMatmulPreference_t pref = nullptr;
    check(cublasLtMatmulPreferenceCreate(&pref), "preference");
    check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &kWorkspaceBytes, sizeof kWorkspaceBytes),
          "workspace preference");
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t status =
        cublasLtMatmulAlgoGetHeuristic(handle, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    check(status, "heuristic");
    if (found == 0) {
      throw std::runtime_error("cuBLASLt: no algorithm for a bf16 product of " + std::to_string(m) + "x" +
                               std::to_string(k) + " by " + std::to_string(k) + "x" + std::to_string(n));
    }
    p.algo = result.algo;
    return plans.emplace(key, p).first->second;
  }
};

Gemm::Gemm() : state_(new State) {
  try {
    check(cublasLtCreate(&state_->handle), "create");
    if (cudaMalloc(&state_->workspace, kWorkspaceBytes) != cudaSuccess) {
      cudaGetLastError();
      throw std::runtime_error("cuBLASLt: out of GPU memory for its 32 MiB workspace");
    }
  } catch (...) {
    if (state_->handle != nullptr) cublasLtDestroy(state_->handle);
    delete state_;
    throw;
  }
}

Gemm::~Gemm() {
  for (auto& [key, p] : state_->plans) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatmulDescDestroy(p.op);
  }
  cudaFree(state_->workspace);
  cublasLtDestroy(state_->handle);
  delete state_;
}

void Gemm::run(const bf16* x, const bf16* w, void* y, OutType out, int m, int n, int k, cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  Plan& p = state_->plan(m, n, k, out);
  const float alpha = 1.0f, beta = 0.0f;
  check(cublasLtMatmul(state_->handle, p.op, &alpha, w, p.a, x, p.b, &beta, y, p.c, y, p.c, &p.algo,
                       state_->workspace, kWorkspaceBytes, stream),
        "matmul");
}

}  // namespace agentrt::kernels
