#include "agent/backends/backend_scripted.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentrt::agent {
namespace {

struct Streamed {
  std::vector<std::string> chunks;
  ChunkCallback callback() {
    return [this](const TokenChunk& chunk) {
      chunks.push_back(chunk.text);
      return true;
    };
  }
  std::string joined() const {
    std::string text;
    for (const auto& chunk : chunks) text += chunk;
    return text;
  }
};

std::filesystem::path write_temp(const std::string& name, const std::string& content) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("agentrt_scripted_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ScriptedBackend, RepliesInOrderStreamedInChunksAndRecordsPrompts) {
  ScriptedBackend backend({"Hello there, world", "second"}, {.chunk_chars = 4});
  GenerationParams params;
  params.max_tokens = 77;
  Streamed first;
  const Completion one = backend.generate("prompt one", params, first.callback());
  EXPECT_EQ(one.text, "Hello there, world");
  EXPECT_EQ(one.finish_reason, "stop");
  EXPECT_EQ(one.stop, "");
  EXPECT_EQ(first.chunks, (std::vector<std::string>{"Hell", "o th", "ere,", " wor", "ld"}));
  EXPECT_EQ(one.completion_tokens, 5);

  Streamed second;
  EXPECT_EQ(backend.generate("prompt two", params, second.callback()).text, "second");
  EXPECT_EQ(second.joined(), "second");
  EXPECT_EQ(backend.prompts(), (std::vector<std::string>{"prompt one", "prompt two"}));
  ASSERT_EQ(backend.params().size(), 2u);
  EXPECT_EQ(backend.params()[1].max_tokens, 77);
  EXPECT_EQ(backend.replies_left(), 0u);
}

TEST(ScriptedBackend, RunningOutOfRepliesIsAClearError) {
  ScriptedBackend backend({"only"});
  backend.generate("a", {}, nullptr);
  EXPECT_EQ(error_of([&] { backend.generate("b", {}, nullptr); }),
            "scripted backend: no reply left (1 replies were given)");
  EXPECT_EQ(backend.prompts().size(), 2u);
}

TEST(ScriptedBackend, MarkersStayWholeByDefault) {
  const std::string reply = "ok<|action_start|><|plugin|>\n{\"name\": \"x\"}<|action_end|>";
  ScriptedBackend backend({reply}, {.chunk_chars = 5});
  Streamed streamed;
  backend.generate("p", {}, streamed.callback());
  EXPECT_EQ(streamed.joined(), reply);
  EXPECT_EQ(streamed.chunks[0], "ok");
  EXPECT_EQ(streamed.chunks[1], "<|action_start|>");
  EXPECT_EQ(streamed.chunks[2], "<|plugin|>");
  EXPECT_EQ(streamed.chunks.back(), "<|action_end|>");
  for (const auto& chunk : streamed.chunks) EXPECT_LE(chunk.size(), std::string("<|action_start|>").size());
}

TEST(ScriptedBackend, MarkersCanBeSplitAcrossChunks) {
  const std::string reply = "<|action_start|><|interpreter|>";
  ScriptedBackend backend({reply}, {.chunk_chars = 3, .keep_markers_whole = false});
  Streamed streamed;
  backend.generate("p", {}, streamed.callback());
  EXPECT_EQ(streamed.joined(), reply);
  EXPECT_EQ(streamed.chunks[0], "<|a");
  for (const auto& chunk : streamed.chunks) EXPECT_LE(chunk.size(), 3u);
}

TEST(ScriptedBackend, NeverSplitsAUtf8Character) {
  const std::string reply = "a\xE4\xBD\xA0\xE5\xA5\xBD!";  // "a你好!"
  ScriptedBackend backend({reply}, {.chunk_chars = 2, .keep_markers_whole = false});
  Streamed streamed;
  backend.generate("p", {}, streamed.callback());
  EXPECT_EQ(streamed.chunks, (std::vector<std::string>{"a", "\xE4\xBD\xA0", "\xE5\xA5\xBD", "!"}));
}

TEST(ScriptedBackend, CutsAtTheFirstStopString) {
  ScriptedBackend backend({"answer<|im_end|>\nmore<|action_start|>"});
  GenerationParams params;
  params.stop = {"<|action_start|>", "<|im_end|>"};
  Streamed streamed;
  const Completion completion = backend.generate("p", params, streamed.callback());
  EXPECT_EQ(completion.text, "answer");
  EXPECT_EQ(streamed.joined(), "answer");
  EXPECT_EQ(completion.finish_reason, "stop");
  EXPECT_EQ(completion.stop, "<|im_end|>");
}

TEST(ScriptedBackend, CallbackReturningFalseCancels) {
  ScriptedBackend backend({"abcdefghij", "next"}, {.chunk_chars = 2});
  int calls = 0;
  const Completion completion = backend.generate("p", {}, [&](const TokenChunk&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(completion.text, "abcd");
  EXPECT_EQ(completion.finish_reason, "cancelled");
  EXPECT_EQ(backend.generate("p", {}, nullptr).text, "next");
}

TEST(ScriptedBackend, LoadsRepliesFromAJsonFile) {
  const auto path = write_temp("good.json", R"(["first", "<|action_start|><|plugin|>{}"])");
  auto backend = ScriptedBackend::from_file(path);
  EXPECT_EQ(backend->replies_left(), 2u);
  EXPECT_EQ(backend->generate("p", {}, nullptr).text, "first");
  EXPECT_EQ(backend->generate("p", {}, nullptr).text, "<|action_start|><|plugin|>{}");
  std::filesystem::remove(path);
}

TEST(ScriptedBackend, MalformedFilesNameTheFileAndTheProblem) {
  const auto bad_json = write_temp("bad.json", R"(["first", )");
  std::string message = error_of([&] { ScriptedBackend::from_file(bad_json); });
  EXPECT_NE(message.find(bad_json.string()), std::string::npos) << message;
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("parse error"), std::string::npos) << message;

  const auto not_array = write_temp("obj.json", R"({"replies": []})");
  message = error_of([&] { ScriptedBackend::from_file(not_array); });
  EXPECT_NE(message.find("JSON array"), std::string::npos) << message;

  const auto not_string = write_temp("num.json", R"(["ok", 3])");
  message = error_of([&] { ScriptedBackend::from_file(not_string); });
  EXPECT_NE(message.find("reply 1 is a number"), std::string::npos) << message;

  message = error_of([&] { ScriptedBackend::from_file("/nonexistent/agentrt/script.json"); });
  EXPECT_EQ(message, "scripted backend: cannot open /nonexistent/agentrt/script.json");
  for (const auto& path : {bad_json, not_array, not_string}) std::filesystem::remove(path);
}

TEST(ScriptedBackend, ZeroChunkSizeIsRejected) {
  EXPECT_THROW(ScriptedBackend({"x"}, {.chunk_chars = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace agentrt::agent
