// `agentrt eval teval --data FILE... [--model DIR | --endpoint URL | --script FILE] --out FILE`: runs a model
// on T-Eval data files and scores them with T-Eval's metrics. Prints the summary (JSON) on stdout and
// progress on stderr; --out gets the summary and every sample's reply and scores.
#include <cstdio>
#include <fstream>
#include <memory>

#include "agent/renderer.h"
#include "apps/app_common.h"
#include "apps/app_eval_registry.h"
#include "eval/teval_data.h"
#include "eval/teval_runner.h"

namespace agentrt::apps {
namespace {

struct TevalFlags {
  BackendFlags backend;
  std::vector<std::string> data;
  std::string out;
  std::string kind;
  std::string flavor = "internlm2";
  size_t limit = 0;
  int max_tokens = 1024;
  bool quiet = false;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write '" + path + "'");
}

std::string metric_line(const Json& metrics) {
  std::string line;
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s=%.3f", line.empty() ? "" : " ", it.key().c_str(),
                  it.value().get<double>());
    line += buf;
  }
  return line;
}

void run_teval(const TevalFlags& f) {
  if (f.max_tokens <= 0) throw std::invalid_argument("--max-tokens must be positive");
  std::optional<eval::teval::DataKind> kind;
  if (!f.kind.empty()) {
    kind = eval::teval::kind_from_name(f.kind);
    if (!kind) {
      throw std::invalid_argument(
          "--kind '" + f.kind +
          "' is not a T-Eval kind (instruct, plan_json, plan_str, reason_str, retrieve_str, "
          "understand_str, reason_retrieve_understand_json, review_str)");
    }
  }
  // Read and check every file before the first generation, so bad data fails fast.
  std::vector<eval::teval::Dataset> datasets;
  for (const auto& path : f.data) datasets.push_back(eval::teval::read_dataset(path, kind));
  auto backend = make_backend(f.backend);

  eval::teval::RunOptions options;
  options.flavor = agent::flavor_from_string(f.flavor);
  options.limit = f.limit;
  options.generation.max_tokens = f.max_tokens;
  std::vector<eval::teval::FileResult> files;
  std::string failure;
  for (const auto& data : datasets) {
    const size_t total = f.limit == 0 ? data.samples.size() : std::min(f.limit, data.samples.size());
    const auto progress = [&](const eval::teval::FileResult& file, const eval::teval::SampleResult& s) {
      if (f.quiet) return;
      std::fprintf(stderr, "[%s %zu/%zu] %s %s\n", file.kind.result_key().c_str(), file.samples.size(), total,
                   s.id.c_str(), metric_line(s.score.metrics).c_str());
    };
    files.push_back(eval::teval::run_file(data, *backend, options, progress));
    if (!files.back().error.empty()) {
      failure = data.source + ": " + files.back().error;
      break;
    }
  }
  const Json summary = eval::teval::summary_json(files, backend->name());
  const Json report = Json{{"summary", summary}, {"results", eval::teval::results_json(files)}};
  write_file(f.out, report.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  const std::string text = summary.dump(2, ' ', false, Json::error_handler_t::replace);
  std::printf("%s\n", text.c_str());
  if (!failure.empty())
    throw std::runtime_error(failure + " (the samples before it are scored in '" + f.out + "')");
}

const EvalKindRegistrar reg(10, [](CLI::App& eval) {
  auto f = std::make_shared<TevalFlags>();
  auto* cmd = eval.add_subcommand("teval",
                                  "Score a model on T-Eval data (instruct, plan, reason, retrieve, "
                                  "understand, review) with T-Eval's metrics");
  cmd->add_option("--data", f->data,
                  "T-Eval data file(s), e.g. plan_json_v2.json review_str_v2.json (the name tells the kind)")
      ->required()
      ->check(CLI::ExistingFile);
  add_backend_flags(cmd, f->backend);
  cmd->add_option("--out", f->out, "Write the summary and every sample's reply and scores to FILE (JSON)")
      ->required();
  cmd->add_option("--limit", f->limit, "Run only the first N samples of each file");
  cmd->add_option("--kind", f->kind, "What the files evaluate when their names do not say (e.g. plan_json)");
  cmd->add_option("--flavor", f->flavor, "Prompt flavour: internlm2 or lmdeploy")
      ->capture_default_str()
      ->check(CLI::IsMember({"internlm2", "lmdeploy"}));
  cmd->add_option("--max-tokens", f->max_tokens, "Longest reply per sample, in tokens")
      ->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "No per-sample progress on stderr");
  cmd->callback([f] { run_teval(*f); });
});

}  // namespace
}  // namespace agentrt::apps
