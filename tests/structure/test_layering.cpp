// The layering of the product code, read from its sources: every `#include "X/..."` of a file in a library
// must be an edge the table below allows (kernels <- engine <- agent <- agent/backends; tools -> agent,
// sandbox; eval -> agent; apps -> everything; nothing -> apps), and the agent names no concrete tool or
// language.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;

const fs::path kRoot = AGENTRT_SOURCE_DIR;

// The libraries, most specific folder first: a file belongs to the first whose folder holds it.
const std::vector<std::string> kLayers = {"agent/backends", "agent",   "apps",    "engine", "eval",
                                          "kernels",        "prompts", "sandbox", "tools"};

// What each library may include, as path prefixes (a whole library ends in '/'; one header is named whole).
const std::map<std::string, std::vector<std::string>> kAllowed = {
    {"kernels", {"kernels/"}},
    {"engine", {"engine/", "kernels/"}},
    {"prompts", {"prompts/"}},
    // The agent core knows the engine only through its table of special tokens.
    {"agent", {"agent/", "prompts/", "engine/special_tokens.h"}},
    {"agent/backends", {"agent/", "engine/", "prompts/"}},
    {"sandbox", {"sandbox/", "prompts/"}},
    {"tools", {"tools/", "agent/", "sandbox/", "prompts/"}},
    {"eval", {"eval/", "agent/", "prompts/"}},
    {"apps", {"apps/", "agent/", "engine/", "eval/", "kernels/", "prompts/", "sandbox/", "tools/"}},
};

// Everything an include may name: our top-level folders (a quoted include outside them is a file of the same
// folder, e.g. "kernels.h").
const std::set<std::string> kTopFolders = {"agent",   "apps",    "engine", "eval", "kernels",
                                           "prompts", "sandbox", "tools",  "tests"};

std::string layer_of(const std::string& relative) {
  for (const auto& layer : kLayers) {
    if (relative.rfind(layer + "/", 0) == 0) return layer;
  }
  return "";
}

// Whether a file of `layer` may include `target` (a path from the root, e.g. "agent/schema.h").
bool allowed(const std::string& layer, const std::string& target) {
  // A library never includes the ones above it, even where a prefix would let it (agent/ vs agent/backends/).
  if (target.rfind("agent/backends/", 0) == 0 && layer != "agent/backends" && layer != "apps") return false;
  for (const auto& prefix : kAllowed.at(layer)) {
    if (prefix.back() == '/' ? target.rfind(prefix, 0) == 0 : target == prefix) return true;
  }
  return false;
}

// The project file an include line names ("" when the line is no include of one of our folders).
std::string included_path(const std::string& line) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::smatch m;
  if (!std::regex_search(line, m, include)) return "";
  const std::string target = m[1];
  const auto slash = target.find('/');
  if (slash == std::string::npos || kTopFolders.count(target.substr(0, slash)) == 0) return "";
  return target;
}

struct Source {
  std::string path;  // relative to the root
  std::string layer;
};

std::vector<Source> product_sources() {
  std::vector<Source> out;
  for (const auto& top : {"agent", "apps", "engine", "eval", "kernels", "prompts", "sandbox", "tools"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top)) {
      const auto ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".cu" && ext != ".cuh"))
        continue;
      const std::string rel = fs::relative(entry.path(), kRoot).generic_string();
      out.push_back({rel, layer_of(rel)});
    }
  }
  return out;
}

// The lines of a file with // comments and the insides of /* */ comments removed.
std::vector<std::string> code_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  bool in_block = false;
  for (std::string line; std::getline(in, line);) {
    std::string code;
    for (size_t i = 0; i < line.size(); ++i) {
      if (in_block) {
        if (line.compare(i, 2, "*/") == 0) {
          in_block = false;
          ++i;
        }
      } else if (line.compare(i, 2, "/*") == 0) {
        in_block = true;
        ++i;
      } else if (line.compare(i, 2, "//") == 0) {
        break;
      } else {
        code += line[i];
      }
    }
    lines.push_back(code);
  }
  return lines;
}

TEST(Layering, EveryProductFileBelongsToALibrary) {
  const auto sources = product_sources();
  EXPECT_GT(sources.size(), 150u);  // the walk found the tree
  for (const auto& s : sources) EXPECT_FALSE(s.layer.empty()) << s.path;
}

TEST(Layering, EveryIncludeIsAnAllowedEdge) {
  std::vector<std::string> violations;
  size_t edges = 0;
  for (const auto& s : product_sources()) {
    std::ifstream in(kRoot / s.path);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      const std::string target = included_path(line);
      if (target.empty()) continue;
      ++edges;
      if (!allowed(s.layer, target)) {
        violations.push_back(s.path + ":" + std::to_string(line_no) + " (" + s.layer + ") includes " +
                             target);
      }
    }
  }
  EXPECT_GT(edges, 300u);
  std::string all;
  for (const auto& v : violations) all += "\n  " + v;
  EXPECT_TRUE(violations.empty()) << "includes the layering does not allow:" << all;
}

TEST(Layering, TheAgentNamesNoConcreteToolOrLanguage) {
  // Built-in tools reach the agent only through agent::Tool; the interpreter's language is the tool's to say.
  const std::regex named(R"re("(calculator|search|open_url)"|\blua\b)re", std::regex::icase);
  std::vector<std::string> found;
  for (const auto& s : product_sources()) {
    if (s.layer != "agent" && s.layer != "agent/backends") continue;
    const auto lines = code_lines(kRoot / s.path);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (std::regex_search(lines[i], named))
        found.push_back(s.path + ":" + std::to_string(i + 1) + ": " + lines[i]);
    }
  }
  std::string all;
  for (const auto& f : found) all += "\n  " + f;
  EXPECT_TRUE(found.empty()) << "the agent names a tool or a language:" << all;
}

// The text of every CMake file of the tree (CMakeLists.txt and *.cmake), outside tests/ and build folders.
std::string all_cmake_text() {
  std::string text;
  for (const auto& top :
       {"agent", "apps", "engine", "eval", "kernels", "prompts", "sandbox", "tools", "cmake"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top)) {
      const auto name = entry.path().filename().string();
      if (name != "CMakeLists.txt" && entry.path().extension() != ".cmake") continue;
      std::ifstream in(entry.path());
      text.append(std::istreambuf_iterator<char>(in), {});
    }
  }
  return text;
}

TEST(Layering, EverySourceAndPromptFileIsListedInTheBuild) {
  // Sources are listed by name, not globbed: a file the build does not name would silently not be built.
  const std::string cmake = all_cmake_text();
  std::vector<std::string> missing;
  for (const auto& s : product_sources()) {
    const fs::path path(s.path);
    const auto ext = path.extension().string();
    if (ext != ".cpp" && ext != ".cu") continue;
    const std::string name = path.filename().string();
    if (cmake.find(name) == std::string::npos) missing.push_back(s.path);
  }
  for (const auto& entry : fs::recursive_directory_iterator(kRoot / "prompts")) {
    const auto ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".txt" && ext != ".md" && ext != ".json")) continue;
    if (entry.path().filename() == "CMakeLists.txt") continue;
    const std::string rel = fs::relative(entry.path(), kRoot / "prompts").generic_string();
    if (cmake.find(rel) == std::string::npos) missing.push_back("prompts/" + rel);
  }
  std::string all;
  for (const auto& m : missing) all += "\n  " + m;
  EXPECT_TRUE(missing.empty()) << "files no CMake list names:" << all;
}

TEST(Layering, TheRulesSeeEachKindOfViolation) {
  EXPECT_EQ(included_path("#include \"tools/tools.h\"  // why"), "tools/tools.h");
  EXPECT_EQ(included_path("#include <vector>"), "");
  EXPECT_EQ(included_path("#include \"kernels.h\""), "");
  EXPECT_FALSE(allowed("agent", "tools/tools.h"));   // down to a tool
  EXPECT_FALSE(allowed("agent", "engine/model.h"));  // the core past the token table
  EXPECT_TRUE(allowed("agent", "engine/special_tokens.h"));
  EXPECT_FALSE(allowed("agent", "agent/backends/backends.h"));  // up to the backends
  EXPECT_FALSE(allowed("tools", "agent/backends/backend_local.h"));
  EXPECT_FALSE(allowed("engine", "agent/schema.h"));
  EXPECT_FALSE(allowed("eval", "tools/tools.h"));
  EXPECT_FALSE(allowed("sandbox", "apps/command.h"));  // nothing includes apps
  EXPECT_TRUE(allowed("apps", "agent/backends/backend_local.h"));
  EXPECT_EQ(layer_of("agent/backends/backend_local.cpp"), "agent/backends");
  EXPECT_EQ(layer_of("agent/session.cpp"), "agent");
  EXPECT_EQ(layer_of("engine/cuda/cuda_backend.cpp"), "engine");
}

}  // namespace
