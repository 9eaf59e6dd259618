#include "tools/interpreter_tool.h"

#include <algorithm>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "prompts/prompts.h"
#include "tools/tool_declaration.h"

namespace agentrt::tools {
namespace {

constexpr const char* kPythonMessage =
    "This interpreter runs Lua 5.4, not Python. Rewrite the code in Lua: `local x = 1`, "
    "`for i = 1, 10 do ... end`, `if x > 1 then ... end`, `function f(a) return a end`, `print(...)`, tables "
    "`{}` "
    "for lists and dictionaries (indices start at 1), `..` to join strings. Nothing needs importing: csv, "
    "df, stats, "
    "json, chart and fs are already loaded.";

std::string cut_middle(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars) return text;
  const std::size_t head = max_chars * 2 / 3;
  const std::size_t tail = max_chars - head;
  return text.substr(0, head) + "\n... [" + std::to_string(text.size() - head - tail) +
         " characters cut] ...\n" + text.substr(text.size() - tail);
}

Json to_agent_json(const nlohmann::json& j) {
  return Json::parse(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool is_python(const InterpreterOptions& o) {
  return o.language == sandbox::Language::Python;
}

bool is_image(const sandbox::CreatedFile& f) {
  return f.mime == "image/png";
}

// The Python cell's files for the model: each figure as the notebook shows it (![image](name.png)) with its
// summary, the other files listed.
std::string python_files_text(const std::vector<sandbox::CreatedFile>& files) {
  std::string text, others;
  for (const auto& f : files) {
    if (is_image(f)) {
      text += "![image](" + f.path + ")\n";
      if (!f.summary.empty()) text += "(" + f.path + ": " + f.summary + ")\n";
    } else if (f.mime != "image/svg+xml" || f.summary.empty()) {
      others += "- " + f.path + "\n";
    }
  }
  if (!others.empty()) text += "Files created:\n" + others;
  return text;
}

}  // namespace

std::optional<agent::ChannelPrompt> InterpreterTool::channel_prompt(std::string_view language) const {
  if (is_python(options_)) {
    return agent::ChannelPrompt{
        std::string(prompts::get("system/interpreter_python." + std::string(language) + ".txt")),
        "python",
        "put the code in a ```python fenced block",
    };
  }
  return agent::ChannelPrompt{
      std::string(prompts::get("system/interpreter." + std::string(language) + ".txt")),
      "lua",
      "put the code in a ```lua fenced block",
  };
}

bool looks_like_python(std::string_view code) {
  static const std::regex patterns[] = {
      std::regex(R"(^\s*import\s+[A-Za-z_][\w.]*(\s+as\s+\w+)?\s*(,.*)?$)"),
      std::regex(R"(^\s*from\s+[\w.]+\s+import\s+)"),
      std::regex(R"(^\s*def\s+\w+\s*\(.*\)\s*(->.*)?:\s*(#.*)?$)"),
      std::regex(R"(^\s*class\s+\w+.*:\s*$)"),
      std::regex(R"(^\s*(if|elif|else|for|while|try|except|finally|with)\b.*:\s*(#.*)?$)"),
      std::regex(R"(\bprint\s*\(\s*f["'])"),
  };
  std::istringstream lines{std::string(code)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    for (const auto& p : patterns) {
      if (std::regex_search(line, p)) return true;
    }
  }
  return false;
}

std::string format_cell_for_model(const sandbox::CellResult& r, std::size_t max_chars,
                                  sandbox::Language language) {
  std::string text;
  if (!r.output.empty()) text += r.output;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (!r.value.empty()) text += r.value + "\n";
  if (language == sandbox::Language::Python) {
    if (!r.ok) {
      const bool code_error = r.failure == sandbox::Failure::Runtime || r.failure == sandbox::Failure::Syntax;
      text += code_error && !r.traceback.empty() ? r.traceback : r.error + "\n";
    }
    text += python_files_text(r.files);
    if (text.empty())
      text = "(the code ran without output; end the cell with an expression or print to see values)";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return cut_middle(text, max_chars);
  }
  if (!r.ok) {
    text += "Error";
    if (r.error_line > 0) text += " (line " + std::to_string(r.error_line) + ")";
    text += ": " + r.error + "\n";
    if (!r.traceback.empty()) text += "Traceback:\n" + r.traceback;
  }
  if (!r.files.empty()) {
    text += "Files created:\n";
    for (const auto& f : r.files) {
      text += "- " + f.path + (f.summary.empty() ? "" : ": " + f.summary) + "\n";
    }
  }
  if (text.empty())
    text = "(the code ran without output; end the cell with an expression or use print to see values)";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return cut_middle(text, max_chars);
}

InterpreterOptions InterpreterOptions::from_settings(const Json& settings,
                                                     const std::filesystem::path& workspace) {
  InterpreterOptions o;
  o.workspace = workspace;
  if (!settings.is_object()) return o;
  auto positive = [&](const char* key) -> std::optional<long long> {
    if (!settings.contains(key)) return std::nullopt;
    const auto& v = settings[key];
    if (!v.is_number_integer() || v.get<long long>() <= 0) {
      throw std::invalid_argument(std::string("interpreter setting '") + key +
                                  "' must be a positive integer");
    }
    return v.get<long long>();
  };
  if (auto v = positive("timeout_ms")) o.limits.timeout = std::chrono::milliseconds(*v);
  if (auto v = positive("memory_mb")) o.limits.memory_bytes = static_cast<std::size_t>(*v) << 20;
  if (auto v = positive("max_result_chars")) o.max_result_chars = static_cast<std::size_t>(*v);
  if (auto v = positive("max_sessions")) o.max_sessions = static_cast<std::size_t>(*v);
  if (settings.contains("language")) {
    if (!settings["language"].is_string())
      throw std::invalid_argument("interpreter setting 'language' must be \"lua\" or \"python\"");
    o.language = sandbox::language_from_string(settings["language"].get<std::string>());
  }
  if (settings.contains("unsafe")) {
    if (!settings["unsafe"].is_boolean())
      throw std::invalid_argument("interpreter setting 'unsafe' must be true or false");
    o.unsafe = settings["unsafe"].get<bool>();
  }
  if (settings.contains("worker")) {
    if (!settings["worker"].is_string())
      throw std::invalid_argument("interpreter setting 'worker' must be a path");
    o.worker = settings["worker"].get<std::string>();
  }
  return o;
}

InterpreterTool::InterpreterTool(InterpreterOptions options) : options_(std::move(options)) {}

std::string InterpreterTool::description() const {
  return declaration_of(is_python(options_) ? "interpreter_python" : "interpreter").description;
}

Json InterpreterTool::parameters() const {
  return declaration_of(is_python(options_) ? "interpreter_python" : "interpreter").parameters;
}

std::chrono::milliseconds InterpreterTool::default_timeout() const {
  // A program's first Python cell may wait for the zygote's imports (seconds on a loaded machine).
  return options_.limits.timeout + (is_python(options_) ? std::chrono::seconds(60) : std::chrono::seconds(5));
}

std::shared_ptr<sandbox::Session> InterpreterTool::session_for(const agent::ToolContext& ctx) {
  const std::filesystem::path workspace = ctx.workspace.empty() ? options_.workspace : ctx.workspace;
  const std::string key = ctx.session_id + "\n" + workspace.string();
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->first == key) {
      sessions_.splice(sessions_.begin(), sessions_, it);
      return sessions_.front().second;
    }
  }
  sandbox::SessionOptions o;
  o.workspace = workspace;
  o.worker = options_.worker;
  o.limits = options_.limits;
  o.language = options_.language;
  o.allow_basic_jail = options_.unsafe;
  auto session = std::make_shared<sandbox::Session>(o);
  sessions_.emplace_front(key, session);
  while (sessions_.size() > std::max<std::size_t>(1, options_.max_sessions)) sessions_.pop_back();
  return session;
}

void InterpreterTool::reset(std::string_view session_id) {
  std::vector<std::shared_ptr<sandbox::Session>> matching;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, session] : sessions_) {
      if (key.substr(0, key.find('\n')) == session_id) matching.push_back(session);
    }
  }
  for (auto& s : matching) s->reset();
}

agent::ToolResult InterpreterTool::run(const Json& arguments, const agent::ToolContext& ctx) {
  const bool python = is_python(options_);
  const std::string fence = python ? "```python" : "```lua";
  if (!arguments.is_object() || !arguments.contains("code") || !arguments["code"].is_string()) {
    return agent::ToolResult::failure("The interpreter needs the code to run: a " + fence + " fenced block.");
  }
  const std::string code = arguments["code"].get<std::string>();
  const std::string language = arguments.contains("language") && arguments["language"].is_string()
                                   ? arguments["language"].get<std::string>()
                                   : "";
  if (code.find_first_not_of(" \t\r\n") == std::string::npos) {
    return agent::ToolResult::failure(
        python ? "The code block is empty: put Python code inside the ```python fence."
               : "The code block is empty: put Lua 5.4 code inside the ```lua fence.");
  }
  if (!python && looks_like_python(code)) {
    return agent::ToolResult::failure(kPythonMessage, Json{{"failure", "python"}});
  }
  const long long left = ctx.remaining_ms();
  if (left <= 0)
    return agent::ToolResult::failure("The time for this call ran out before the code could start.");
  std::shared_ptr<sandbox::Session> session;
  try {
    session = session_for(ctx);
  } catch (const std::exception& e) {
    return agent::ToolResult::failure(std::string("The code interpreter is unavailable: ") + e.what());
  }
  const auto timeout = std::min(options_.limits.timeout, std::chrono::milliseconds(left));
  const sandbox::CellResult cell = session->run(code, timeout);
  std::string text = format_cell_for_model(cell, options_.max_result_chars, options_.language);
  const std::string own = python ? "python" : "lua";
  std::string label = language;
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool labelled_other =
      !label.empty() && label != own && !(python && (label == "py" || label == "python3"));
  if (cell.failure == sandbox::Failure::Syntax && labelled_other) {
    text += "\n(The code was labelled " + language + "; this interpreter runs " +
            (python ? std::string("Python 3") : std::string("Lua 5.4")) + ". Use a " + fence + " fence.)";
  }
  agent::ToolResult result = cell.ok ? agent::ToolResult::success(text, to_agent_json(cell.to_json()))
                                     : agent::ToolResult::failure(text, to_agent_json(cell.to_json()));
  for (const auto& f : cell.files) result.files.push_back({f.path, f.mime, f.summary});
  return result;
}

Json interpreter_status(const InterpreterOptions& options) {
  const sandbox::JailSupport support = sandbox::probe_jail_support(options.worker);
  const bool python = is_python(options);
  const bool available = !python || support.full() || options.unsafe;
  std::string detail;
  if (!python) {
    detail = support.namespaces ? "Lua runs in the full jail"
                                : "Lua runs in the basic jail (rlimits, seccomp allowlist" +
                                      std::string(support.landlock_abi > 0 ? ", Landlock)" : ")");
  } else if (support.full()) {
    detail = "Python runs in the full jail";
  } else if (options.unsafe) {
    detail = "Python runs WITHOUT the full jail (--interpreter-unsafe): " + support.describe();
  } else {
    detail = "Python is refused: it needs user namespaces and Landlock (" + support.describe() +
             "); --interpreter-unsafe accepts less";
  }
  return Json{{"language", sandbox::to_string(options.language)},
              {"available", available},
              {"unsafe", options.unsafe},
              {"jail", to_agent_json(support.to_json())},
              {"detail", detail}};
}

void warm_up_interpreter(const InterpreterOptions& options) {
  if (!is_python(options)) return;
  // One background start per program; the thread is joined when the program ends.
  struct Warmer {
    std::thread thread;
    ~Warmer() {
      if (thread.joinable()) thread.join();
    }
  };
  static Warmer warmer;
  static std::once_flag once;
  std::call_once(once, [worker = options.worker] {
    warmer.thread = std::thread([worker] {
      try {
        sandbox::prepare_worker(sandbox::Language::Python, worker);
      } catch (const std::exception&) {
        // The first cell tries again and reports why.
      }
    });
  });
}

}  // namespace agentrt::tools
