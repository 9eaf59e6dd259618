// Trains a sentencepiece BPE tokenizer (byte fallback, InternLM2's settings) on the corpus shipped in
// engine/assets and lays out its vocabulary like InternLM2's: trained pieces, unused padding, then the six
// protocol tokens as the last ids.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace agentrt::engine {

// The corpus compiled in from engine/assets/tokenizer_corpus.txt.
std::string_view tokenizer_corpus();

// Writes DIR/tokenizer.model (vocab_size pieces; [UNUSED_TOKEN_141..146] at vocab_size-6 .. vocab_size-1) and
// DIR/tokenizer_config.json naming them. Throws std::runtime_error when training fails.
void write_trained_tokenizer(const std::filesystem::path& dir, int vocab_size);

}  // namespace agentrt::engine
