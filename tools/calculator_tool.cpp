#include "tools/calculator_tool.h"

#include "tools/calculator.h"

namespace agentrt::tools {

std::string CalculatorTool::name() const {
  return "calculator";
}

std::string CalculatorTool::description() const {
  return "Evaluates an arithmetic expression exactly where it can: integers of any size stay exact, / gives "
         "a "
         "float. Operators + - * / // % and ^ or ** for power; functions sqrt, cbrt, exp, ln, log, log10, "
         "log2, "
         "sin, cos, tan, asin, acos, atan, abs, floor, ceil, round, min, max, factorial, gcd, lcm, comb, "
         "perm; "
         "constants pi and e.";
}

Json CalculatorTool::parameters() const {
  return Json{{"type", "object"},
              {"properties",
               {{"expression",
                 {{"type", "string"},
                  {"description", "The expression to evaluate, e.g. (3 + 4) * 2^10 or sqrt(2) / 2"}}}}},
              {"required", Json::array({"expression"})}};
}

agent::ToolResult CalculatorTool::run(const Json& arguments, const agent::ToolContext&) {
  const auto it = arguments.find("expression");
  if (it == arguments.end() || !it->is_string()) {
    return agent::ToolResult::failure(
        "the argument 'expression' must be a string, e.g. {\"expression\": \"2+2\"}");
  }
  try {
    const calc::Value value = calc::evaluate(it->get<std::string>());
    std::string text = calc::format(value);
    Json data{{"result", text}, {"type", std::holds_alternative<mpz_class>(value) ? "integer" : "float"}};
    return agent::ToolResult::success(std::move(text), std::move(data));
  } catch (const calc::CalcError& e) {
    return agent::ToolResult::failure(e.what(), Json{{"column", e.column()}, {"error", e.detail()}});
  }
}

}  // namespace agentrt::tools
