// Which kernel variant runs: the processor's features from CPUID (and XGETBV: the operating system must save
// the vector registers), the fastest variant it runs, or the one AGENTRT_CPU_KERNELS names.
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <cstdlib>
#include <string>

#include "engine/cpu/kernel_tables.h"
#include "engine/cpu/kernels.h"

namespace agentrt::engine::cpu {
namespace {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
};

#if defined(__x86_64__)
uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return f;
  const bool osxsave = (ecx & (1u << 27)) != 0;
  if (!osxsave) return f;
  const uint64_t xcr = xcr0();
  const bool ymm_state = (xcr & 0x6) == 0x6;                 // SSE and AVX registers saved
  const bool zmm_state = ymm_state && (xcr & 0xe0) == 0xe0;  // opmask and both halves of zmm0-31
  f.fma = ymm_state && (ecx & (1u << 12)) != 0;
  f.f16c = ymm_state && (ecx & (1u << 29)) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return f;
  const unsigned max_subleaf = eax;
  f.avx2 = ymm_state && (ebx & (1u << 5)) != 0;
  f.avx512f = zmm_state && (ebx & (1u << 16)) != 0;
  f.avx512dq = zmm_state && (ebx & (1u << 17)) != 0;
  f.avx512bw = zmm_state && (ebx & (1u << 30)) != 0;
  f.avx512vl = zmm_state && (ebx & (1u << 31)) != 0;
  f.avx512vnni = zmm_state && (ecx & (1u << 11)) != 0;
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0) {
    f.avx512bf16 = zmm_state && (eax & (1u << 5)) != 0;
  }
#endif
  return f;
}

const CpuFeatures& features() {
  static const CpuFeatures f = detect();
  return f;
}

// What a variant needs that this processor lacks ("" when it runs it).
std::string missing_for(std::string_view name) {
  const CpuFeatures& f = features();
  std::string missing;
  const auto need = [&](bool have, const char* what) {
    if (!have) missing += missing.empty() ? what : std::string(", ") + what;
  };
  if (name == "portable") return missing;
#if !defined(__x86_64__)
  return "an x86-64 processor";
#endif
  need(f.avx2, "AVX2");
  need(f.fma, "FMA");
  need(f.f16c, "F16C");
  if (name == "avx2") return missing;
  need(f.avx512f, "AVX512F");
  need(f.avx512bw, "AVX512BW");
  need(f.avx512vl, "AVX512VL");
  need(f.avx512dq, "AVX512DQ");
  if (name == "avx512") return missing;
  need(f.avx512vnni, "AVX512_VNNI");
  if (name == "avx512_vnni") return missing;
  need(f.avx512bf16, "AVX512_BF16");
  return missing;
}

const Kernels* table_for(std::string_view name) {
  if (name == "portable") return &portable_kernel_table();
#if defined(__x86_64__)
  if (name == "avx2") return &avx2_kernel_table();
  if (name == "avx512") return &avx512_kernel_table();
  if (name == "avx512_vnni") return &avx512_vnni_kernel_table();
  if (name == "avx512_bf16") return &avx512_bf16_kernel_table();
#endif
  return nullptr;
}

constexpr std::string_view kVariantNames[] = {"portable", "avx2", "avx512", "avx512_vnni", "avx512_bf16"};

}  // namespace

std::vector<KernelVariant> kernel_variants() {
  std::vector<KernelVariant> out;
  for (const std::string_view name : kVariantNames) {
    std::string missing = missing_for(name);
    const Kernels* table = missing.empty() ? table_for(name) : nullptr;
    if (table == nullptr && missing.empty()) missing = "a build for this architecture";
    out.push_back({name, table, std::move(missing)});
  }
  return out;
}

const Kernels* kernels_by_name(std::string_view name) {
  if (!missing_for(name).empty()) return nullptr;
  return table_for(name);
}

const Kernels& portable_kernels() {
  return portable_kernel_table();
}

const Kernels* avx2_kernels() {
  return kernels_by_name("avx2");
}

const Kernels& best_kernels() {
  static const Kernels* chosen = [] {
    const char* forced = std::getenv("AGENTRT_CPU_KERNELS");
    if (forced != nullptr && *forced != '\0') {
      if (const Kernels* k = kernels_by_name(forced)) return k;
    }
    const Kernels* best = &portable_kernel_table();
    for (const std::string_view name : kVariantNames) {
      if (const Kernels* k = kernels_by_name(name)) best = k;
    }
    return best;
  }();
  return *chosen;
}

}  // namespace agentrt::engine::cpu
