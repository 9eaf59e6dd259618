// The text similarity our T-Eval scores use where T-Eval compares texts with a sentence-embedding model
// (all-mpnet-base-v2, cosine clamped at 0): reason (thought vs. reference thought), understand (arguments vs.
// reference arguments) and the step matching of plan. That model cannot ship here, so we use a lexical
// stand-in, reported as such in every summary: the cosine between the bags of words of the two texts.
//
// Words: lowercase runs of ASCII letters, digits and '_', and runs of other non-ASCII letters; every CJK
// ideograph, kana or hangul syllable is a word of its own (Chinese has no spaces). Punctuation and spaces
// separate words. So "AirbnbSearch.get_property_details" is the two words "airbnbsearch" and
// "get_property_details": two different methods of the same tool share only half their words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace agentrt::eval::teval {

inline constexpr std::string_view kSimilarityMethod = "lexical-cosine";
inline constexpr std::string_view kSimilarityNote =
    "T-Eval scores reason, understand and plan step matching with all-mpnet-base-v2 sentence embeddings; "
    "this run uses the cosine between bags of lowercase words instead (CJK characters count as one word "
    "each), so those figures are lexical, not semantic.";

std::vector<std::string> words_of(std::string_view text);

// Cosine of the word-count vectors, in [0, 1]: 1 when both texts have no words, 0 when only one has none.
double lexical_similarity(std::string_view a, std::string_view b);

// True for a code point that is part of a word (letters, digits, '_', non-ASCII letters), the way Python's
// \w treats it; CJK characters included.
bool is_word_code_point(char32_t cp);

// Decodes one UTF-8 code point at text[pos], advancing pos (invalid bytes decode as U+FFFD, one byte each).
char32_t next_code_point(std::string_view text, size_t& pos);

// Appends cp as UTF-8; values that are not Unicode scalar values (lone surrogates, > U+10FFFF) become U+FFFD.
void append_utf8(std::string& out, char32_t cp);

}  // namespace agentrt::eval::teval
