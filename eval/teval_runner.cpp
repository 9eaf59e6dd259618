#include "eval/teval_runner.h"

#include <stdexcept>

#include "agent/protocol.h"
#include "eval/teval_similarity.h"

namespace agentrt::eval::teval {
namespace {

// Backends leave the stop string out; a server that ignores stops may still end with the end-of-turn marker.
std::string without_end_markers(std::string text) {
  bool trimmed = true;
  while (trimmed) {
    trimmed = false;
    for (const auto marker : {agent::Marker::ImEnd, agent::Marker::Eos}) {
      for (const std::string_view spelled : agent::spellings_of(marker)) {
        if (!spelled.empty() && text.size() >= spelled.size() &&
            text.compare(text.size() - spelled.size(), spelled.size(), spelled) == 0) {
          text.resize(text.size() - spelled.size());
          trimmed = true;
        }
      }
    }
  }
  return text;
}

GenerationParams params_for(const LLMBackend& backend, GenerationParams params) {
  agent::add_end_of_turn_stops(params.stop, params.stop_ids, backend.marker_ids());
  return params;
}

Json kind_json(const DataKind& kind) {
  return Json{{"kind", kind.result_key()},
              {"task", to_string(kind.task)},
              {"version", kind.version == 0 ? Json(nullptr) : Json(kind.version)},
              {"language", kind.chinese ? "zh" : "en"}};
}

}  // namespace

std::vector<Message> prompt_messages(const Sample& sample) {
  std::vector<Message> messages;
  for (const auto& turn : sample.prompt) {
    Message m;
    m.content = turn.content;
    if (turn.role == "function" || turn.role == "environment" || turn.role == "tool") {
      m.role = agent::Role::Environment;
      m.name = "plugin";
    } else {
      m.role = agent::role_from_string(turn.role);
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

std::string render_sample(const Sample& sample, Flavor flavor) {
  agent::RenderOptions options;
  options.flavor = flavor;
  return agent::render_prompt(prompt_messages(sample), options);
}

FileResult run_file(const Dataset& data, LLMBackend& backend, const RunOptions& options,
                    const SampleObserver& observer) {
  FileResult file;
  file.source = data.source;
  file.kind = data.kind;
  file.available = data.samples.size();
  const GenerationParams params = params_for(backend, options.generation);
  const size_t count =
      options.limit == 0 ? data.samples.size() : std::min(options.limit, data.samples.size());
  std::vector<SampleScore> scores;
  for (size_t i = 0; i < count; ++i) {
    const Sample& sample = data.samples[i];
    SampleResult result;
    result.id = sample.id;
    try {
      const agent::Completion c = backend.generate(render_sample(sample, options.flavor), params,
                                                   [](const agent::TokenChunk&) { return true; });
      result.reply = without_end_markers(c.text);
      result.finish_reason = c.finish_reason;
    } catch (const std::exception& e) {
      file.error = "sample '" + sample.id + "': the model backend failed: " + e.what();
      break;
    }
    result.score = score_sample(sample, data.kind, result.reply);
    scores.push_back(result.score);
    file.samples.push_back(std::move(result));
    if (observer) observer(file, file.samples.back());
  }
  file.metrics = summarize_metrics(scores);
  return file;
}

Json summary_json(const std::vector<FileResult>& files, const std::string& backend_name) {
  Json per_file = Json::array();
  std::vector<FileMetrics> metrics;
  size_t samples = 0;
  size_t parsed = 0;
  for (const auto& f : files) {
    Json entry = Json{{"data", f.source}};
    entry.update(kind_json(f.kind));
    entry["samples"] = f.samples.size();
    entry["available"] = f.available;
    entry["metrics"] = f.metrics;
    if (!f.error.empty()) entry["error"] = f.error;
    per_file.push_back(std::move(entry));
    if (!f.samples.empty()) metrics.push_back(FileMetrics{f.kind, f.metrics});
    for (const auto& s : f.samples) {
      ++samples;
      parsed += s.score.parsed ? 1 : 0;
    }
  }
  Json summary = Json::object();
  summary["benchmark"] = "T-Eval";
  summary["backend"] = backend_name;
  summary["samples"] = samples;
  summary["parse_rate"] = samples == 0 ? Json(nullptr) : Json(static_cast<double>(parsed) / samples);
  summary["dimensions"] = dimension_scores(metrics);
  summary["files"] = std::move(per_file);
  summary["similarity"] = Json{{"method", kSimilarityMethod}, {"note", kSimilarityNote}};
  return summary;
}

Json results_json(const std::vector<FileResult>& files) {
  Json out = Json::array();
  for (const auto& f : files) {
    for (const auto& s : f.samples) {
      out.push_back(Json{{"data", f.source},
                         {"kind", f.kind.result_key()},
                         {"id", s.id},
                         {"reply", s.reply},
                         {"finish_reason", s.finish_reason},
                         {"parsed", s.score.parsed},
                         {"extracted", s.score.extracted},
                         {"metrics", s.score.metrics}});
    }
  }
  return out;
}

}  // namespace agentrt::eval::teval
