#include "agent/tool_registry.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "agent/py_json.h"
#include "agent/schema_validator.h"

namespace agentrt::agent {
namespace {

// A short human summary of a tool's parameters: "expression (string, required), top_k (integer)".
std::string parameter_summary(const Json& schema) {
  std::string out;
  if (!schema.contains("properties") || !schema["properties"].is_object()) return "no arguments";
  std::vector<std::string> required;
  if (schema.contains("required") && schema["required"].is_array()) {
    for (const auto& r : schema["required"]) {
      if (r.is_string()) required.push_back(r.get<std::string>());
    }
  }
  for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it) {
    if (!out.empty()) out += ", ";
    out += it.key();
    std::string type =
        it.value().is_object() && it.value().contains("type") ? py_dumps(it.value()["type"]) : "";
    if (type.size() >= 2 && type.front() == '"') type = type.substr(1, type.size() - 2);
    bool req = std::find(required.begin(), required.end(), it.key()) != required.end();
    if (!type.empty() || req)
      out += " (" + type + (req ? (type.empty() ? "required" : ", required") : "") + ")";
  }
  return out.empty() ? "no arguments" : out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The environment message for arguments that do not fit the schema, in the protocol's words
// (../shared/spec/internlm2-protocol.md §6).
std::string violations_message(const Tool& tool, const std::vector<SchemaViolation>& violations) {
  std::vector<std::string> missing, unknown, other;
  for (const auto& v : violations) {
    if (v.kind == "missing") {
      missing.push_back(v.path);
    } else if (v.kind == "unknown") {
      unknown.push_back(v.path);
    } else {
      other.push_back(v.message);
    }
  }
  std::string msg;
  if (!missing.empty()) msg += std::string(call_error::kMissingArgs) + ": " + join(missing) + ". ";
  if (!unknown.empty()) msg += std::string(call_error::kUnknownArgs) + ": " + join(unknown) + ". ";
  if (!other.empty()) msg += "invalid arguments: " + join(other) + ". ";
  msg += "Tool '" + tool.name() + "' takes: " + parameter_summary(tool.parameters()) + ".";
  return msg;
}

}  // namespace

void ToolRegistry::add(std::shared_ptr<Tool> tool) {
  if (!tool) throw std::invalid_argument("cannot register a null tool");
  const std::string name = tool->name();
  if (name.empty()) throw std::invalid_argument("a tool needs a non-empty name");
  if (find(name)) throw std::invalid_argument("a tool named '" + name + "' is already registered");
  if (tool->channel() == Channel::Interpreter && has_interpreter()) {
    throw std::invalid_argument("only one interpreter tool can be registered ('" + name +
                                "' is a second one)");
  }
  std::string why;
  if (!is_object_schema(tool->parameters(), &why)) {
    throw std::invalid_argument("tool '" + name + "' has an unusable parameter schema: " + why);
  }
  tools_.push_back(std::move(tool));
}

std::shared_ptr<Tool> ToolRegistry::find(std::string_view name) const {
  for (const auto& t : tools_) {
    if (t->name() == name) return t;
  }
  return nullptr;
}

std::vector<std::shared_ptr<Tool>> ToolRegistry::tools() const {
  return tools_;
}

std::shared_ptr<Tool> ToolRegistry::interpreter() const {
  for (const auto& t : tools_) {
    if (t->channel() == Channel::Interpreter) return t;
  }
  return nullptr;
}

bool ToolRegistry::has_interpreter() const {
  return interpreter() != nullptr;
}

bool ToolRegistry::has_plugins() const {
  for (const auto& t : tools_) {
    if (t->channel() == Channel::Plugin) return true;
  }
  return false;
}

Json ToolRegistry::plugin_descriptions() const {
  Json list = Json::array();
  for (const auto& t : tools_) {
    if (t->channel() != Channel::Plugin) continue;
    list.push_back({{"name", t->name()}, {"description", t->description()}, {"parameters", t->parameters()}});
  }
  return list;
}

void ToolRegistry::set_timeout(std::string_view name, std::chrono::milliseconds timeout) {
  timeouts_[std::string(name)] = timeout;
}

std::chrono::milliseconds ToolRegistry::timeout_of(const Tool& tool) const {
  auto it = timeouts_.find(tool.name());
  return it != timeouts_.end() ? it->second : tool.default_timeout();
}

ToolResult ToolRegistry::dispatch(const Action& action, const ToolContext& ctx) const {
  if (!action.valid) return ToolResult::failure(action.error);

  std::shared_ptr<Tool> tool;
  if (action.channel == Channel::Interpreter) {
    for (const auto& t : tools_) {
      if (t->channel() == Channel::Interpreter) tool = t;
    }
    if (!tool)
      return ToolResult::failure(
          "The code interpreter is not available in this session; use the listed tools.");
  } else {
    tool = find(action.name);
    if (!tool || tool->channel() != Channel::Plugin) {
      std::string names;
      for (const auto& t : tools_) {
        if (t->channel() == Channel::Plugin) names += (names.empty() ? "" : ", ") + t->name();
      }
      return ToolResult::failure(std::string(call_error::kUnknownTool) + " There is no tool named '" +
                                 action.name +
                                 "'; the available tools are: " + (names.empty() ? "none" : names) + ".");
    }
  }

  Json args = action.tool_arguments();
  auto violations = validate_against_schema(tool->parameters(), args);
  if (!violations.empty()) return ToolResult::failure(violations_message(*tool, violations));

  if (ctx.cancel_requested()) return ToolResult::failure("The run was cancelled before the tool ran.");

  const auto timeout = timeout_of(*tool);
  ToolContext call_ctx = ctx;
  const auto own_deadline = std::chrono::steady_clock::now() + timeout;
  if (own_deadline < call_ctx.deadline) call_ctx.deadline = own_deadline;

  // The tool runs on its own thread so a tool that ignores its deadline cannot hang the run; the state the
  // thread needs is shared so it can outlive this call when it overruns.
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    ToolResult result;
  };
  auto shared = std::make_shared<Shared>();
  std::thread worker([shared, tool, args, call_ctx]() {
    ToolResult r;
    try {
      r = tool->run(args, call_ctx);
    } catch (const std::exception& e) {
      r = ToolResult::failure("tool '" + tool->name() + "' failed: " + e.what());
    } catch (...) {
      r = ToolResult::failure("tool '" + tool->name() + "' failed with an unknown error");
    }
    std::lock_guard lock(shared->mutex);
    shared->result = std::move(r);
    shared->done = true;
    shared->done_cv.notify_all();
  });

  // Grace beyond the deadline lets a well-behaved tool report its own timeout message.
  const auto grace = std::chrono::milliseconds(250);
  std::unique_lock lock(shared->mutex);
  bool finished = shared->done_cv.wait_until(lock, call_ctx.deadline + grace, [&] { return shared->done; });
  if (!finished) {
    lock.unlock();
    worker.detach();
    return ToolResult::failure("tool '" + tool->name() + "' timed out after " +
                               std::to_string(timeout.count()) +
                               " ms and was abandoned; try a simpler request.");
  }
  ToolResult result = std::move(shared->result);
  lock.unlock();
  worker.join();
  return result;
}

CallBatch::CallBatch(const ToolRegistry& registry, std::vector<Action> actions, ToolContext ctx,
                     int max_parallel)
    : registry_(registry),
      actions_(std::move(actions)),
      ctx_(std::move(ctx)),
      outcomes_(actions_.size()),
      done_(actions_.size(), false) {
  for (const auto& a : actions_) {
    const auto tool = a.channel == Channel::Interpreter ? registry_.interpreter() : registry_.find(a.name);
    may_overlap_.push_back(!tool || tool->may_overlap());
  }
  // One at a time: each call runs on the caller's thread when its outcome is asked for, so a call never
  // starts before the caller has seen the one before it (and, say, cancelled the run).
  if (max_parallel <= 1) return;
  const size_t workers = std::min(actions_.size(), static_cast<size_t>(max_parallel));
  for (size_t w = 0; w < workers; ++w) workers_.emplace_back([this] { work(); });
}

CallBatch::~CallBatch() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  for (auto& t : workers_) t.join();
}

bool CallBatch::overlaps(size_t i) const {
  return may_overlap_[i];
}

void CallBatch::work_one() {
  const size_t i = next_++;
  CallOutcome& outcome = outcomes_[i];
  if (!ctx_.cancel_requested()) {
    outcome.ran = true;
    outcome.start = std::chrono::steady_clock::now();
    outcome.result = registry_.dispatch(actions_[i], ctx_);
    outcome.end = std::chrono::steady_clock::now();
  }
  done_[i] = true;
}

void CallBatch::work() {
  std::unique_lock lock(mutex_);
  while (next_ < actions_.size()) {
    const size_t i = next_++;
    // A tool that may not overlap itself waits for its earlier calls (already taken by other workers, since
    // calls are taken in order, so the wait always ends).
    if (!overlaps(i)) {
      changed_.wait(lock, [&] {
        for (size_t j = 0; j < i; ++j) {
          if (!done_[j] && !may_overlap_[j] && actions_[j].channel == actions_[i].channel &&
              actions_[j].name == actions_[i].name) {
            return false;
          }
        }
        return true;
      });
    }
    CallOutcome outcome;
    if (!closing_ && !ctx_.cancel_requested()) {
      lock.unlock();
      outcome.ran = true;
      outcome.start = std::chrono::steady_clock::now();
      outcome.result = registry_.dispatch(actions_[i], ctx_);
      outcome.end = std::chrono::steady_clock::now();
      lock.lock();
    }
    outcomes_[i] = std::move(outcome);
    done_[i] = true;
    changed_.notify_all();
  }
}

const CallOutcome& CallBatch::wait(size_t i) {
  if (workers_.empty()) {
    while (next_ <= i) work_one();
    return outcomes_[i];
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done_[i]; });
  return outcomes_[i];
}

}  // namespace agentrt::agent
