// End-to-end tests of the bundled demo model and the examples: the real program, the real engine running
// models/demo, the real tools. They also check the demo model's pipeline: the training data renders exactly
// as the runtime renders prompts, and the engine computes the same logits as the training code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "tests/apps/cli_runner.h"

namespace agentrt::testing {
namespace {

const std::string kSource = AGENTRT_SOURCE_DIR;

// Runs a shell command line in the source tree with AGENTRT pointing at the built program.
CliResult run_shell(const std::string& command) {
  const std::string cmd =
      "cd '" + kSource + "' && export AGENTRT='" + agentrt_binary() + "' && " + command + " 2>&1";
  CliResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

double json_number(const std::string& text, const std::string& key) {
  const std::regex re("\"" + key + "\": ([0-9.eE+-]+)");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[1]);
}

TEST(DemoModel, IsBundledAndLoads) {
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json",
                           "MODEL_CARD.md", "eval_tasks.jsonl"}) {
    EXPECT_TRUE(std::filesystem::exists(kSource + "/models/demo/" + file)) << file;
  }
  const auto r = run_cli("generate --model '" + kSource +
                         "/models/demo' --prompt '<|im_start|>user\nhi<|im_end|>\n' --max-tokens 4 --json");
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST(DemoModel, EngineLogitsMatchTheTrainingCode) {
  const auto r = run_shell(
      "/usr/bin/python3 scripts/demo_model/check_checkpoint.py --agentrt \"$AGENTRT\" "
      "--model models/demo");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("same top token at 100.0%"), std::string::npos) << r.out;
}

TEST(DemoModel, TrainingDataIsByteIdenticalToRuntimePrompts) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("agentrt-demo-data-" + std::to_string(::getpid()));
  auto r = run_shell("/usr/bin/python3 scripts/demo_model/gen_data.py --agentrt \"$AGENTRT\" --out '" +
                     dir.string() + "' --train 24 --eval 4");
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_shell("/usr/bin/python3 scripts/demo_model/check_render.py --agentrt \"$AGENTRT\" --data '" +
                dir.string() + "' --count 24");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("24/24 conversations"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

TEST(DemoModel, DefaultBackendIsTheDemoModel) {
  // No --model, --endpoint or --script: the bundled demo model runs in process and calls the calculator.
  const auto r = run_cli("run --tools calculator,search --max-turns 3 --json 'Compute 37 * 48 + 12.'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_GE(json_number(r.out, "tool_calls"), 1) << r.out;
  EXPECT_NE(r.out.find("\"answer\""), std::string::npos) << r.out;
}

TEST(DemoModel, ClearErrorForAMissingModelFolder) {
  const auto r = run_cli("run --model /nonexistent/model --tools calculator 'What is 1 + 1?'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("/nonexistent/model"), std::string::npos) << r.out;
  const auto both = run_cli("run --model /x --script /y 'hi'");
  EXPECT_NE(both.status, 0);
  EXPECT_NE(both.out.find("choose one backend"), std::string::npos) << both.out;
}

TEST(EvalSynthetic, ScoresHeldOutTasksWithTheRealRuntime) {
  const auto out = temp_file("synthetic.json", "");
  const auto index = temp_file("index.db", "");
  std::filesystem::remove(index);
  const auto r = run_shell("\"$AGENTRT\" index examples/automation/docs --db '" + index +
                           "' >/dev/null && AGENTRT_SEARCH_INDEX='" + index +
                           "' \"$AGENTRT\" eval synthetic --tasks models/demo/eval_tasks.jsonl --limit 24 "
                           "--tools calculator,search --quiet --out '" +
                           out + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(json_number(r.out, "tasks"), 24) << r.out;
  // The demo model writes well-formed calls of offered tools with schema-valid arguments
  // (models/demo/MODEL_CARD.md has the full figures, task success included).
  EXPECT_GE(json_number(r.out, "tool_call_validity"), 0.95) << r.out;
  std::ifstream report(out);
  const std::string text((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"results\""), std::string::npos);
  EXPECT_NE(text.find("\"calls\""), std::string::npos);
}

TEST(EvalSynthetic, RejectsBadTaskFiles) {
  auto r =
      run_cli("eval synthetic --tasks " + temp_file("bad.jsonl", "{\"id\": \"a\"}\n") + " --out /dev/null");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("'task' must be a non-empty string"), std::string::npos) << r.out;
  r = run_cli("eval synthetic --tasks " + temp_file("empty.jsonl", "\n") + " --out /dev/null");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("holds no tasks"), std::string::npos) << r.out;
}

TEST(Examples, AutomationRunsSearchThenCalculator) {
  const auto r = run_shell("examples/automation/run.sh");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto search = r.out.find("-> search");
  const auto result = r.out.find("<- Results for");
  const auto calc = r.out.find("-> calculator");
  EXPECT_NE(search, std::string::npos) << r.out;
  EXPECT_NE(result, std::string::npos) << r.out;
  EXPECT_NE(calc, std::string::npos) << r.out;
  EXPECT_LT(search, calc) << r.out;
  EXPECT_NE(r.out.find("\nAnswer: "), std::string::npos) << r.out;
}

TEST(Examples, MathChecksEveryAnswer) {
  const auto r = run_shell("examples/math/run.sh");
  // Exit status 0 only when every answer is right; either way each problem gets a verdict and the score is
  // printed.
  const std::regex score("([0-9]+)/12 correct; tool-call validity [0-9]+%");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, score)) << r.out;
  EXPECT_EQ(r.status == 0, m[1] == "12") << r.out;
  size_t verdicts = 0;
  for (size_t pos = r.out.find("(expected "); pos != std::string::npos;
       pos = r.out.find("(expected ", pos + 1))
    ++verdicts;
  EXPECT_EQ(verdicts, 12u) << r.out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Examples, DataAnalysisWritesStatisticsAndAChart) {
  // The model's replies are scripted (the demo model was not trained for this example yet); the interpreter,
  // its csv/stats/chart libraries, the workspace and the printed paths are real.
  const auto dir =
      std::filesystem::temp_directory_path() / ("agentrt-data-example-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto r = run_shell("examples/data/run.sh --out '" + dir.string() +
                           "' --script examples/data/analysis.replies.json");
  ASSERT_EQ(r.status, 0) << r.out;
  // The total and mean of the units column, from the CSV file itself.
  std::ifstream csv(kSource + "/examples/data/sales_2025.csv");
  std::string line;
  std::getline(csv, line);
  ASSERT_EQ(line, "month,units,revenue");
  long long total = 0, rows = 0;
  while (std::getline(csv, line)) {
    total += std::stoll(line.substr(line.find(',') + 1));
    ++rows;
  }
  char expected[64];
  std::snprintf(expected, sizeof expected, "<- total %lld.00 mean %.2f", total,
                static_cast<double>(total) / rows);
  EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
  const std::string svg = read_file((dir / "sales_2025_units.svg").string());
  const std::string png = read_file((dir / "sales_2025_units.png").string());
  EXPECT_NE(svg.find("<svg"), std::string::npos) << r.out;
  EXPECT_NE(svg.find("</svg>"), std::string::npos) << r.out;
  ASSERT_GE(png.size(), 8u) << r.out;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << r.out;
  EXPECT_NE(r.out.find((dir / "sales_2025_units.svg").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((dir / "sales_2025_units.png").string()), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

TEST(Examples, DataAnalysisSaysWhenNoChartWasWritten) {
  // A run whose cell fails writes no file: the script says so and exits non-zero.
  const auto replies =
      temp_file("no-chart.json",
                "[\"Reading it.<|action_start|><|interpreter|>\\n```lua\\nd = csv.read(\\\"nope.csv\\\")"
                "\\n```<|action_end|>\\n\", \"I could not read the file.\"]");
  const auto dir =
      std::filesystem::temp_directory_path() / ("agentrt-data-none-" + std::to_string(::getpid()));
  const auto r = run_shell("examples/data/run.sh --out '" + dir.string() + "' --script '" + replies + "'");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(none)"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agentrt::testing
