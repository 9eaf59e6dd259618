#include "agent/backends/backend_scripted.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "agent/protocol.h"
#include "agent/schema.h"

namespace agentrt::agent {
namespace {

// Length of the marker spelling that starts at `text[at]`, or 0.
size_t marker_length_at(const std::string& text, size_t at) {
  for (const MarkerSpelling& marker : kMarkers) {
    for (const std::string_view spelling : spellings_of(marker.token)) {
      if (!spelling.empty() && text.compare(at, spelling.size(), spelling) == 0) return spelling.size();
    }
  }
  return 0;
}

// Moves `end` back so that it does not fall inside a UTF-8 sequence starting after `begin`.
size_t utf8_boundary(const std::string& text, size_t begin, size_t end) {
  size_t cut = end;
  while (cut > begin && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  if (cut > begin) return cut;
  // One character longer than the chunk size: take it whole.
  cut = end;
  while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) ++cut;
  return cut;
}

}  // namespace

ScriptedBackend::ScriptedBackend(std::vector<std::string> replies, ScriptedBackendOptions options)
    : options_(options), replies_(std::move(replies)) {
  if (options_.chunk_chars == 0)
    throw std::invalid_argument("scripted backend: chunk_chars must be at least 1");
}

std::unique_ptr<ScriptedBackend> ScriptedBackend::from_file(const std::filesystem::path& path,
                                                            ScriptedBackendOptions options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("scripted backend: cannot open " + path.string());
  std::stringstream text;
  text << file.rdbuf();
  Json script;
  try {
    script = Json::parse(text.str());
  } catch (const Json::parse_error& error) {
    throw std::runtime_error("scripted backend: " + path.string() + " is not valid JSON: " + error.what());
  }
  if (!script.is_array()) {
    throw std::runtime_error("scripted backend: " + path.string() +
                             " must hold a JSON array of reply strings, not " +
                             std::string(script.type_name()));
  }
  std::vector<std::string> replies;
  for (size_t i = 0; i < script.size(); ++i) {
    if (!script[i].is_string()) {
      throw std::runtime_error("scripted backend: " + path.string() + ": reply " + std::to_string(i) +
                               " is a " + script[i].type_name() + ", expected a string");
    }
    replies.push_back(script[i].get<std::string>());
  }
  return std::make_unique<ScriptedBackend>(std::move(replies), options);
}

std::vector<std::string> ScriptedBackend::chunk(const std::string& text) const {
  std::vector<std::string> chunks;
  size_t at = 0;
  while (at < text.size()) {
    if (options_.keep_markers_whole) {
      if (const size_t marker = marker_length_at(text, at); marker > 0) {
        chunks.push_back(text.substr(at, marker));
        at += marker;
        continue;
      }
    }
    size_t end = utf8_boundary(text, at, std::min(text.size(), at + options_.chunk_chars));
    if (options_.keep_markers_whole) {
      // End the chunk where a marker begins, so the marker goes out on its own.
      for (size_t i = at + 1; i < end; ++i) {
        if (text[i] == '<' || text[i] == '[') {
          if (marker_length_at(text, i) > 0) {
            end = i;
            break;
          }
        }
      }
    }
    chunks.push_back(text.substr(at, end - at));
    at = end;
  }
  return chunks;
}

Completion ScriptedBackend::generate(const std::string& prompt, const GenerationParams& params,
                                     const ChunkCallback& on_chunk) {
  std::string reply;
  {
    std::lock_guard lock(mutex_);
    prompts_.push_back(prompt);
    params_.push_back(params);
    if (next_ >= replies_.size()) {
      throw std::runtime_error("scripted backend: no reply left (" + std::to_string(replies_.size()) +
                               " replies were given)");
    }
    reply = replies_[next_++];
  }

  Completion completion;
  completion.finish_reason = "stop";
  size_t cut = std::string::npos;
  for (const std::string& stop : params.stop) {
    const size_t at = stop.empty() ? std::string::npos : reply.find(stop);
    if (at < cut) {
      cut = at;
      completion.stop = stop;
    }
  }
  if (cut != std::string::npos) reply.resize(cut);

  for (std::string& piece : chunk(reply)) {
    completion.text += piece;
    ++completion.completion_tokens;
    if (on_chunk && !on_chunk(TokenChunk{std::move(piece), {}})) {
      completion.finish_reason = "cancelled";
      completion.stop.clear();
      break;
    }
  }
  return completion;
}

std::vector<std::string> ScriptedBackend::prompts() const {
  std::lock_guard lock(mutex_);
  return prompts_;
}

std::vector<GenerationParams> ScriptedBackend::params() const {
  std::lock_guard lock(mutex_);
  return params_;
}

size_t ScriptedBackend::replies_left() const {
  std::lock_guard lock(mutex_);
  return replies_.size() - next_;
}

}  // namespace agentrt::agent
