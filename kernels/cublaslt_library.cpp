#include "kernels/cublaslt_library.h"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace agentrt::kernels {
namespace {

template <class Fn>
void resolve(void* handle, const char* library, const char* name, Fn& out) {
  dlerror();
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    const char* why = dlerror();
    throw std::runtime_error(std::string("cuBLASLt: ") + library + " has no " + name + (why ? ": " : "") +
                             (why ? why : ""));
  }
  out = reinterpret_cast<Fn>(symbol);
}

}  // namespace

CublasLtLibrary open_cublaslt(const char* library) {
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw std::runtime_error(std::string("cuBLASLt: cannot load ") + library + ": " +
                             (why ? why : "unknown"));
  }
  CublasLtLibrary lt;
  try {
#define AGENTRT_CUBLASLT_RESOLVE(field, function) resolve(handle, library, #function, lt.field);
    AGENTRT_CUBLASLT_FUNCTIONS(AGENTRT_CUBLASLT_RESOLVE)
#undef AGENTRT_CUBLASLT_RESOLVE
  } catch (...) {
    dlclose(handle);  // not the library asked for: nothing of it stays loaded
    throw;
  }
  return lt;
}

const CublasLtLibrary& cublaslt() {
  static const CublasLtLibrary library = [] {
    try {
      return open_cublaslt(AGENTRT_CUBLASLT_SONAME);
    } catch (const std::exception& by_soname) {
      try {
        return open_cublaslt(AGENTRT_CUBLASLT_PATH);
      } catch (const std::exception& by_path) {
        throw std::runtime_error(std::string(by_soname.what()) + "; " + by_path.what());
      }
    }
  }();
  return library;
}

}  // namespace agentrt::kernels
