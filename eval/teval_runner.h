// Runs a model on T-Eval data: each sample's origin_prompt is rendered with the InternLM2 protocol
// (renderer.h), the backend generates one reply, and the reply is scored with T-Eval's metrics
// (teval_metrics.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/llm_backend.h"
#include "agent/renderer.h"
#include "eval/teval_data.h"
#include "eval/teval_metrics.h"

namespace agentrt::eval::teval {

// The agent's vocabulary this runner speaks.
using agent::Flavor;
using agent::GenerationParams;
using agent::LLMBackend;
using agent::Message;

struct RunOptions {
  Flavor flavor = Flavor::InternLM2;
  GenerationParams generation;  // T-Eval generates up to 1024 new tokens, greedily
  size_t limit = 0;             // the first N samples of each file; 0 = all
};

struct SampleResult {
  std::string id;
  std::string reply;
  std::string finish_reason;
  SampleScore score;
};

struct FileResult {
  std::string source;
  DataKind kind;
  size_t available = 0;               // samples in the file
  std::vector<SampleResult> samples;  // those run, in file order
  Json metrics = Json::object();      // summarize_metrics over `samples`
  std::string error;                  // set when the backend failed and the file was not finished
};

// T-Eval's turns as protocol messages: its "function" turns (tool responses) become environment turns of the
// plugin channel.
std::vector<Message> prompt_messages(const Sample& sample);
std::string render_sample(const Sample& sample, Flavor flavor);

using SampleObserver = std::function<void(const FileResult& file, const SampleResult& sample)>;

// Runs and scores the samples of one file. A backend error stops the file: what was done so far is kept and
// `error` names the sample that failed.
FileResult run_file(const Dataset& data, LLMBackend& backend, const RunOptions& options,
                    const SampleObserver& observer = {});

// The summary of a run: per file its kind and metrics, the six dimensions and overall, the parse rate over
// all samples, and a note that text similarity is lexical.
Json summary_json(const std::vector<FileResult>& files, const std::string& backend_name);
// Every sample's reply, what was read from it and its metrics.
Json results_json(const std::vector<FileResult>& files);

}  // namespace agentrt::eval::teval
