// Real clients against a real server: the official `openai` npm package (e2e/openai_client.mjs), the web
// page in headless Chromium through playwright-core (e2e/web_page.mjs), pages of other origins attacking
// the server from Chromium (e2e/browser_attacks.mjs), and structured output checked by zod
// (e2e/structured_output.mjs). They need node, the npm packages that
// scripts/setup-npm-server installs, and (for the pages) Debian's chromium; without them the tests skip and
// say why.
#include <gtest/gtest.h>

#include <fstream>

#include "apps/server/engine_served_model.h"
#include "server_harness.h"
#include "tests/apps/cli_runner.h"
#include "tiny_model.h"

namespace agentrt::testing {
namespace {

const std::filesystem::path kE2eDir = std::filesystem::path(AGENTRT_SOURCE_DIR) / "tests/server/e2e";

CliResult run_node(const std::string& script, const std::string& env) {
  return run_shell("cd '" + kE2eDir.string() + "' && " + env + " node " + script + " 2>&1");
}

// Why the node tests cannot run here, or "" when they can.
std::string node_missing(const std::string& package) {
  if (std::system("command -v node > /dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(kE2eDir / "node_modules" / package / "package.json")) {
    return "tests/server/e2e/node_modules/" + package + " is missing: run scripts/setup-npm-server";
  }
  return "";
}

std::string plugin_call(const std::string& expression) {
  return "<|action_start|><|plugin|>\n{\"name\": \"calculator\", \"parameters\": {\"expression\": \"" +
         expression + "\"}}<|action_end|>";
}

TEST(EndToEnd, OfficialOpenAIClient) {
  if (const auto why = node_missing("openai"); !why.empty()) GTEST_SKIP() << why;
  server::ServerOptions o;
  o.api_key = "e2e-key";
  // In the order openai_client.mjs asks: plain chat, tool call, streamed tool call (twice), answer after the
  // tool result, named tool_choice (a continuation of the prefilled call).
  ScriptedServer s(
      {"Hello from AgentRT.", "Let me compute." + plugin_call("6*7"), "Adding them." + plugin_call("2+3"),
       plugin_call("9-4"), "2+3 = 5.", "{\"expression\": \"1+1\"}}<|action_end|>"},
      o);
  const auto r = run_node("openai_client.mjs", "BASE_URL=" + s.server->base_url() + " API_KEY=e2e-key");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("all openai client steps passed"), std::string::npos) << r.out;
  // The tool result reached the model as an environment turn.
  const auto prompts = s.backend->prompts();
  ASSERT_GE(prompts.size(), 5u);
  EXPECT_NE(prompts[4].find("<|im_start|>environment name=<|plugin|>\n5<|im_end|>"), std::string::npos)
      << prompts[4];
}

TEST(EndToEnd, WebPageInHeadlessChromium) {
  if (const auto why = node_missing("playwright-core"); !why.empty()) GTEST_SKIP() << why;
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "/usr/bin/chromium is missing (Debian package chromium)";
  server::ServerOptions o;
  o.api_key = "page-key";
  o.tools.builtin = {"calculator", "interpreter"};
  ScriptedServer s(
      {"I will use the calculator." + plugin_call("6*7"), "6*7 is 42.",
       "Drawing it.<|action_start|><|interpreter|>\n```lua\nchart.bar{labels = {\"north\", \"south\"}, "
       "values = {3, 5}, title = \"Sales\"}\n```<|action_end|>",
       "The chart shows south ahead."},
      o);
  const auto chart = fresh_dir("chart") / "sales.svg";
  std::ofstream(chart)
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"120\" viewBox=\"0 0 240 "
         "120\"><rect x=\"10\" y=\"40\" width=\"50\" height=\"80\" fill=\"#2e90fa\"/><rect x=\"80\" "
         "y=\"10\" width=\"50\" height=\"110\" fill=\"#12b76a\"/></svg>";
  const auto r = run_node("web_page.mjs", "BASE_URL=" + s.server->base_url() + " API_KEY=page-key CHART='" +
                                              chart.string() + "'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("all web page steps passed"), std::string::npos) << r.out;
}

TEST(EndToEnd, StructuredOutputValidatesWithTheOfficialClientAndZod) {
  if (const auto why = node_missing("zod"); !why.empty()) GTEST_SKIP() << why;
  agent::LocalEngineOptions lo;
  lo.threads = 1;
  lo.progress = false;
  auto model = server::serve_local_engine(std::make_unique<agent::LocalEngineBackend>(tiny_checkpoint(), lo),
                                          "agentrt", {});
  server::ServerOptions o;
  o.data_dir = fresh_dir("structured");
  TestServer server(model, o);
  const auto r = run_node("structured_output.mjs", "BASE_URL=" + server.base_url());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("all structured output steps passed"), std::string::npos) << r.out;
}

TEST(EndToEnd, PagesOfOtherOriginsCannotDriveTheServer) {
  if (const auto why = node_missing("playwright-core"); !why.empty()) GTEST_SKIP() << why;
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "/usr/bin/chromium is missing (Debian package chromium)";
  server::ServerOptions o;
  o.tools.builtin = {"calculator", "interpreter"};
  ScriptedServer s({"A run an attacker started."}, o);
  const auto r = run_node("browser_attacks.mjs", "BASE_URL=" + s.server->base_url());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("all browser attack steps passed"), std::string::npos) << r.out;
  // Nothing ran and nothing was made, though every request reached the server.
  auto c = s.client();
  EXPECT_TRUE(get_json(c, "/v1/sessions")["data"].empty());
  EXPECT_TRUE(s.backend->prompts().empty());
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_GE(metric(metrics, "agentrt_http_requests_total{route=\"forbidden\",code=\"403\"}"), 10) << metrics;
}

TEST(EndToEnd, WebPageShowsAChartDrawnInAPythonCell) {
  if (const auto why = node_missing("playwright-core"); !why.empty()) GTEST_SKIP() << why;
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "/usr/bin/chromium is missing (Debian package chromium)";
  server::ServerOptions o;
  o.api_key = "page-key";
  o.tools.builtin = {"interpreter"};
  // unsafe: where this machine cannot build the full jail, the page is still what is tested here.
  o.tools.settings["interpreter"] = {{"language", "python"}, {"unsafe", true}};
  ScriptedServer s({"Drawing it.<|action_start|><|interpreter|>\n```python\nimport matplotlib.pyplot as plt\n"
                    "plt.bar(['north', 'south'], [3, 5])\nplt.title('Sales')\n```<|action_end|>",
                    "The chart shows south ahead."},
                   o);
  const auto r = run_node("web_page_python.mjs", "BASE_URL=" + s.server->base_url() + " API_KEY=page-key");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("all web page steps passed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace agentrt::testing
