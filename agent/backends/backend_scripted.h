// ScriptedBackend: an LLMBackend that replays given replies in order, one per generate() call, streamed in
// small chunks the way a server would stream them. It lets the planner, the CLI and the server run end to end
// without a model, and records the prompts it was given so tests can check what the model would have seen.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/llm_backend.h"

namespace agentrt::agent {

struct ScriptedBackendOptions {
  size_t chunk_chars = 3;  // bytes per streamed chunk (a UTF-8 character is never split); at least 1
  // true: the protocol's special markers ("<|action_start|>", ...) are streamed as one chunk each, like the
  // tokens of a real model; false: chunk boundaries may fall inside them, to exercise a parser's buffering.
  bool keep_markers_whole = true;
};

class ScriptedBackend : public LLMBackend {
 public:
  explicit ScriptedBackend(std::vector<std::string> replies, ScriptedBackendOptions options = {});
  // Reads a JSON array of strings. Throws std::runtime_error naming the file for a missing or malformed file.
  static std::unique_ptr<ScriptedBackend> from_file(const std::filesystem::path& path,
                                                    ScriptedBackendOptions options = {});

  std::string name() const override { return "scripted"; }
  // Streams the next reply, cut at the first of params.stop (finish_reason "stop", the stop string left out);
  // without a stop string the reply ends as if the model emitted end-of-sequence (finish_reason "stop", stop
  // ""). completion_tokens counts the chunks streamed; prompt_tokens stays 0 (there is no tokenizer). Throws
  // std::runtime_error when no reply is left.
  Completion generate(const std::string& prompt, const GenerationParams& params,
                      const ChunkCallback& on_chunk) override;

  // Every prompt received, in order (a call that found no reply left is recorded too).
  std::vector<std::string> prompts() const;
  // The parameters of every call, in the same order as prompts().
  std::vector<GenerationParams> params() const;
  size_t replies_left() const;

 private:
  // Splits `text` into the chunks to stream.
  std::vector<std::string> chunk(const std::string& text) const;

  ScriptedBackendOptions options_;
  std::vector<std::string> replies_;
  mutable std::mutex mutex_;  // guards the fields below; generate() may be called from several threads
  size_t next_ = 0;
  std::vector<std::string> prompts_;
  std::vector<GenerationParams> params_;
};

}  // namespace agentrt::agent
