// The calculator on arbitrary expressions: every input ends in a value or a CalcError naming a column inside
// the input, never a crash, a hang or an exponential blow-up.
// fuzz-libs: agentrt_tools
#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/calculator.h"
#include "tools/calculator_lexer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string expression(reinterpret_cast<const char*>(data), size);
  try {
    (void)agentrt::tools::calc::calculate(expression);
  } catch (const agentrt::tools::calc::CalcError& e) {
    if (e.column() == 0 || e.column() > expression.size() + 1) __builtin_trap();
  }
  return 0;
}
