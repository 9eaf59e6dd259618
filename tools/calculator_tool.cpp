#include "tools/calculator_tool.h"

#include "tools/calculator.h"
#include "tools/tool_declaration.h"

namespace agentrt::tools {

std::string CalculatorTool::name() const {
  return "calculator";
}

std::string CalculatorTool::description() const {
  return declaration_of("calculator").description;
}

Json CalculatorTool::parameters() const {
  return declaration_of("calculator").parameters;
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
