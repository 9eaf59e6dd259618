#include "agent/session.h"

#include <chrono>

#include "agent/json_scan.h"

#include "prompts/prompts.h"

namespace agentrt::agent {
namespace {

std::string trim(std::string_view s) {
  const char* ws = " \n\r\t";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

long long ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

Json action_arguments_for_trace(const Action& a) {
  Json j{{"tool", a.name}, {"channel", to_string(a.channel)}, {"valid", a.valid}};
  if (a.channel == Channel::Interpreter) {
    j["code"] = a.code;
    j["language"] = a.language;
  } else {
    j["arguments"] = a.arguments;
  }
  if (!a.valid) {
    j["error"] = a.error;
    j["raw"] = a.raw;
  }
  if (!a.id.empty()) j["call_id"] = a.id;
  return j;
}

}  // namespace

Json extract_plan(std::string_view text) {
  for (size_t start = text.find('['); start != std::string_view::npos; start = text.find('[', start + 1)) {
    const size_t length = balanced_json_length(text, start);
    if (length == std::string_view::npos) continue;
    Json plan = Json::parse(text.substr(start, length), nullptr, false);
    if (!plan.is_discarded() && plan.is_array()) return plan;
  }
  return nullptr;
}

Session::Session(LLMBackend& backend, const ToolRegistry& tools, SessionOptions options, TraceSink* trace)
    : backend_(backend), tools_(tools), options_(std::move(options)), trace_(trace) {
  if (options_.language != "en" && options_.language != "zh") {
    throw std::invalid_argument("unknown prompt language '" + options_.language + "' (expected en or zh)");
  }
  if (options_.max_turns < 1) throw std::invalid_argument("max_turns must be at least 1");
}

std::string Session::prompt_text(std::string_view name) const {
  return std::string(prompts::get(std::string(name) + "." + options_.language + ".txt"));
}

std::string Session::render_next_prompt() const {
  RenderOptions ro;
  ro.flavor = options_.flavor;
  if (tools_.has_plugins()) {
    ro.tools = tools_.plugin_descriptions();
    ro.plugin_template = prompt_text("system/plugin");
  }
  if (const auto prompt = interpreter_prompt()) {
    ro.interpreter_prompt = prompt->system_prompt;
    ro.interpreter_fence = prompt->fence_language;
  }
  return render_prompt(history_, ro);
}

std::optional<ChannelPrompt> Session::interpreter_prompt() const {
  const auto tool = tools_.interpreter();
  if (!tool) return std::nullopt;
  return tool->channel_prompt(options_.language);
}

Session::Turn Session::generate_turn(const RunObserver& observer) {
  const auto channel = interpreter_prompt();
  ActionParser parser(backend_.marker_ids(), channel ? channel->missing_code_hint : "");
  GenerationParams params = options_.generation;
  add_end_of_turn_stops(params.stop, params.stop_ids, backend_.marker_ids());
  if (options_.constrain_tools && tools_.has_plugins()) params.constrain_tools = tools_.plugin_descriptions();

  auto deliver = [&](const std::vector<ParserEvent>& events) {
    for (const auto& e : events) {
      if (e.kind == ParserEvent::Kind::Text && observer.on_text) observer.on_text(e.text);
    }
  };
  Turn turn;
  turn.completion = backend_.generate(render_next_prompt(), params, [&](const TokenChunk& chunk) {
    deliver(parser.feed(chunk));
    return !cancelled_.load();
  });
  deliver(parser.finish());
  turn.reply = parser.reply();
  return turn;
}

RunResult Session::run(const std::string& task, const RunObserver& observer) {
  cancelled_ = false;
  RunResult result;
  result.run_id = new_run_id();
  Tracer tracer(trace_, result.run_id);
  const auto run_start = std::chrono::steady_clock::now();

  try {
    if (history_.empty()) {
      const std::string system =
          options_.system_prompt.has_value() ? *options_.system_prompt : prompt_text("system/agent");
      if (!system.empty()) history_.push_back({Role::System, "", system, {}, ""});
    }
    history_.push_back({Role::User, "", task, {}, ""});

    if (options_.plan_first) {
      tracer.set_turn(0);
      history_.push_back({Role::System, "", prompt_text("agent/plan"), {}, ""});
      Turn turn = generate_turn(observer);
      ++result.turns;
      const std::string plan_text = trim(turn.reply.text);
      result.plan = extract_plan(plan_text);
      Json event{{"text", plan_text}, {"steps", result.plan}};
      if (result.plan.is_null()) event["error"] = "the plan is not a JSON list of steps";
      tracer.emit(trace_kind::kPlan, event);
      if (observer.on_plan) observer.on_plan(result.plan);
      history_.push_back({Role::Assistant, "", plan_text, {}, ""});
      history_.push_back({Role::System, "", prompt_text("agent/execute"), {}, ""});
    }

    bool last_failed = false;
    for (int turn_no = 1; turn_no <= options_.max_turns; ++turn_no) {
      if (cancelled_) break;
      tracer.set_turn(turn_no);
      Turn turn = generate_turn(observer);
      ++result.turns;
      if (cancelled_ || turn.completion.finish_reason == "cancelled") break;
      const std::string thought = trim(turn.reply.thought);
      if (last_failed && !thought.empty()) tracer.emit(trace_kind::kReflection, {{"text", thought}});

      if (turn.reply.actions.empty()) {
        result.answer = trim(turn.reply.text);
        history_.push_back({Role::Assistant, "", result.answer, {}, ""});
        tracer.emit(trace_kind::kAnswer, {{"text", result.answer}, {"forced", false}});
        return result;
      }
      if (!last_failed) tracer.emit(trace_kind::kThought, {{"text", thought}});

      Message assistant{Role::Assistant, "", turn.reply.thought, turn.reply.actions, ""};
      for (auto& a : assistant.actions) a.id = "call_" + std::to_string(++call_counter_);
      history_.push_back(assistant);

      last_failed = false;
      // Every call is announced in order, then they run together (at most max_parallel_tools at once) and
      // their results come back in the calls' order.
      for (const auto& action : assistant.actions) {
        tracer.emit(trace_kind::kSelect,
                    {{"tool", action.name}, {"channel", to_string(action.channel)}, {"call_id", action.id}});
        tracer.emit(trace_kind::kArguments, action_arguments_for_trace(action));
        if (observer.on_action) observer.on_action(action);
      }
      ToolContext ctx;
      ctx.workspace = options_.workspace;
      ctx.trace = trace_;
      ctx.session_id = options_.session_id;
      ctx.cancelled = &cancelled_;
      CallBatch batch(tools_, assistant.actions, ctx, options_.max_parallel_tools);
      for (size_t i = 0; i < batch.size(); ++i) {
        const Action& action = assistant.actions[i];
        const CallOutcome& outcome = batch.wait(i);
        if (!outcome.ran) break;  // cancelled before it started
        const ToolResult& r = outcome.result;
        ++result.tool_calls;
        Json obs = to_json(r);
        obs["tool"] = action.name;
        obs["call_id"] = action.id;
        obs["latency_ms"] = ms_between(outcome.start, outcome.end);
        // When the call ran, in the run's time (t_ms): calls of one turn overlap.
        obs["t_start_ms"] = ms_between(run_start, outcome.start);
        obs["t_end_ms"] = ms_between(run_start, outcome.end);
        tracer.emit(trace_kind::kObservation, obs);
        if (observer.on_result) observer.on_result(action, r);
        history_.push_back(
            {Role::Environment, std::string(to_string(action.channel)), r.text, {}, action.id});
        last_failed = last_failed || !r.ok;
      }
    }

    if (cancelled_) {
      result.cancelled = true;
      tracer.emit(trace_kind::kError, {{"message", "the run was cancelled"}});
      return result;
    }

    // The turns ran out: one last turn, told to answer from what it has; any call in it is not run.
    tracer.set_turn(options_.max_turns + 1);
    history_.push_back({Role::System, "", prompt_text("agent/final_answer"), {}, ""});
    Turn turn = generate_turn(observer);
    ++result.turns;
    result.forced_answer = true;
    result.answer = trim(turn.reply.actions.empty() ? turn.reply.text : turn.reply.thought);
    history_.push_back({Role::Assistant, "", result.answer, {}, ""});
    tracer.emit(trace_kind::kAnswer, {{"text", result.answer}, {"forced", true}});
  } catch (const std::exception& e) {
    result.error = e.what();
    tracer.emit(trace_kind::kError, {{"message", result.error}});
  }
  return result;
}

}  // namespace agentrt::agent
