// cuBLASLt bf16 products for prefill and batched decode (cuBLASLt opened on first use, cublaslt_library.h).
// cuBLAS is column-major: y[m, n] row-major is the column-major n x m matrix W (k x n column-major,
// transposed) times X^T (k x m column-major).
#include <cublasLt.h>

#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "kernels/cublaslt_library.h"
#include "kernels/kernels.h"

namespace agentrt::kernels {
namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;  // what cuBLASLt's heuristics ask for on Hopper at most

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuBLASLt ") + what + ": " + cublaslt().status_string(status));
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
    const CublasLtLibrary& lt = cublaslt();
    Plan p;
    check(lt.desc_create(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "descriptor");
    const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
    check(lt.desc_set_attribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose), "transa");
    check(lt.desc_set_attribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none), "transb");
    const cudaDataType_t out_type = out == OutType::F32 ? CUDA_R_32F : CUDA_R_16BF;
    check(lt.layout_create(&p.a, CUDA_R_16BF, k, n, k), "layout A");  // W^T: k x n, ld k
    check(lt.layout_create(&p.b, CUDA_R_16BF, k, m, k), "layout B");  // X^T: k x m, ld k
    check(lt.layout_create(&p.c, out_type, n, m, n), "layout C");     // Y^T: n x m, ld n
    cublasLtMatmulPreference_t pref = nullptr;
    check(lt.preference_create(&pref), "preference");
    check(lt.preference_set_attribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &kWorkspaceBytes,
                                      sizeof kWorkspaceBytes),
          "workspace preference");
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t status =
        lt.algo_get_heuristic(handle, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
    lt.preference_destroy(pref);
    check(status, "heuristic");
    if (found == 0) {
      throw std::runtime_error("cuBLASLt: no algorithm for a bf16 product of " + std::to_string(m) + "x" +
                               std::to_string(k) + " by " + std::to_string(k) + "x" + std::to_string(n));
    }
    p.algo = result.algo;
    return plans.emplace(key, p).first->second;
  }
};

Gemm::Gemm() : state_(nullptr) {
  const CublasLtLibrary& lt = cublaslt();  // throws before anything is allocated when it cannot be loaded
  state_ = new State;
  try {
    check(lt.create(&state_->handle), "create");
    if (cudaMalloc(&state_->workspace, kWorkspaceBytes) != cudaSuccess) {
      cudaGetLastError();
      throw std::runtime_error("cuBLASLt: out of GPU memory for its 32 MiB workspace");
    }
  } catch (...) {
    if (state_->handle != nullptr) lt.destroy(state_->handle);
    delete state_;
    throw;
  }
}

Gemm::~Gemm() {
  const CublasLtLibrary& lt = cublaslt();  // loaded: the constructor succeeded
  for (auto& [key, p] : state_->plans) {
    lt.layout_destroy(p.a);
    lt.layout_destroy(p.b);
    lt.layout_destroy(p.c);
    lt.desc_destroy(p.op);
  }
  cudaFree(state_->workspace);
  lt.destroy(state_->handle);
  delete state_;
}

void Gemm::run(const bf16* x, const bf16* w, void* y, OutType out, int m, int n, int k, cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  Plan& p = state_->plan(m, n, k, out);
  const CublasLtLibrary& lt = cublaslt();
  const float alpha = 1.0f, beta = 0.0f;
  check(lt.matmul(state_->handle, p.op, &alpha, w, p.a, x, p.b, &beta, y, p.c, y, p.c, &p.algo,
                  state_->workspace, kWorkspaceBytes, stream),
        "matmul");
}

}  // namespace agentrt::kernels
