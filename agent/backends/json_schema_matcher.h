// A byte-level recognizer of JSON text constrained by a JSON schema (the subset tools declare: types and type
// unions, enum, object properties with required / closed objects, arrays with items, nesting), used to mask
// the vocabulary so a tool call parses and matches its tool's schema by construction. The state is a
// fixed-size, trivially copyable value, so a mask computation can copy it at every step of a walk over the
// vocabulary.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/schema.h"

namespace agentrt::agent {

// A schema compiled for matching. Built once per tool list; matchers point into it.
class CompiledSchema {
 public:
  struct Node {
    enum Type : uint8_t {
      kString = 1,
      kInteger = 2,
      kNumber = 4,
      kBoolean = 8,
      kNull = 16,
      kObject = 32,
      kArray = 64
    };
    uint8_t types = 0;                   // allowed JSON types (bit set of Type)
    std::vector<std::string> enum_json;  // allowed values as JSON text (empty: no enum)
    // objects
    std::vector<std::string> keys;  // declared property names (at most 64)
    std::vector<const Node*> values;
    uint64_t required = 0;             // bit i: keys[i] is required
    const Node* additional = nullptr;  // schema of undeclared properties; null: closed object
    bool ordered = false;              // keys must come in declaration order (the call object)
    bool by_name = false;              // the call's "parameters": its schema follows the chosen "name"
    // arrays
    const Node* items = nullptr;
  };

  // One JSON value valid for `schema`.
  static std::shared_ptr<const CompiledSchema> value(const Json& schema);
  // A tool call {"name": <one of the tools>, "parameters": <object valid for that tool's schema>}, from
  // descriptions [{"name", "parameters": <object schema>}] (OpenAI function objects).
  static std::shared_ptr<const CompiledSchema> tool_call(const Json& tools);

  const Node* root() const { return root_; }
  // For by_name nodes: the parameter schema of the tool whose name is enum option `index` of the name node.
  const Node* parameters_of(int index) const { return by_name_.at(static_cast<size_t>(index)); }

 private:
  // `closed_by_default`: undeclared properties are refused unless additionalProperties allows them (a tool's
  // own parameter object); otherwise JSON Schema's default applies (open unless additionalProperties is
  // false).
  const Node* compile(const Json& schema, int depth, bool closed_by_default = false);
  Node* make();

  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
  std::vector<const Node*> by_name_;
};

class JsonSchemaMatcher {
 public:
  static constexpr int kMaxDepth = 16;
  static constexpr int kMaxStringBytes = 8192;
  static constexpr int kMaxNumberBytes = 40;
  // Whitespace in a row: a newline and 4 spaces per nesting level (pretty-printed JSON), and no more, which
  // bounds a model that wanders.
  static constexpr int kWhitespacePerLevel = 4;

  // The schema must outlive the matcher (it is held by pointer so copies stay cheap).
  explicit JsonSchemaMatcher(const CompiledSchema& schema);

  // Consumes one byte; returns false (and leaves the matcher unusable) when no valid text continues this way.
  bool feed(unsigned char c);
  bool feed(std::string_view bytes);
  // A complete value has been read (trailing whitespace may follow, nothing else).
  bool complete() const;
  // Inside an unconstrained string, not within an escape or a UTF-8 sequence: every byte but '"', '\\' and
  // control characters continues it (the fast path of mask computation).
  bool in_free_string() const;
  // Bytes of the current string so far (meaningful when in_free_string()).
  int string_length() const;
  bool failed() const { return failed_; }

 private:
  enum class Kind : uint8_t { Root, Value, Object, Array, String, Number, Literal };
  struct Frame {
    const CompiledSchema::Node* node;
    Kind kind;
    uint8_t phase;
    uint8_t ws;                // consecutive whitespace bytes
    uint8_t aux;               // string: escape state; number: DFA state
    int16_t key;               // object: the property being read (-1: undeclared / none)
    int16_t chosen;            // object: enum index chosen for the last literal value (call "name")
    uint32_t pos;              // bytes read in the current key / string / literal
    uint64_t cand;             // key or literal candidates
    uint64_t seen;             // object: keys already present
    uint8_t utf8_need;         // string: continuation bytes still expected
    uint8_t utf8_lo, utf8_hi;  // string: range of the next continuation byte
  };

  bool step(unsigned char c);
  bool start_value(const CompiledSchema::Node* node, unsigned char c);
  bool push(const Frame& f);
  void pop_completed(int chosen_literal);
  bool whitespace(Frame& f, unsigned char c);
  bool string_byte(Frame& f, unsigned char c);
  static bool utf8_byte(Frame& f, unsigned char c);  // a byte >= 0x80 of a string or key
  bool literal_can_end(const Frame& f) const;
  int literal_match(const Frame& f) const;
  static bool number_step(Frame& f, unsigned char c, bool integer_only);
  static bool number_accepting(uint8_t state);

  const CompiledSchema* schema_;
  std::array<Frame, kMaxDepth> frames_{};
  int depth_ = 0;
  bool failed_ = false;
};

}  // namespace agentrt::agent
