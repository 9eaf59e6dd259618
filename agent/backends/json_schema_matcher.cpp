#include "agent/backends/json_schema_matcher.h"

#include <stdexcept>

#include "agent/py_json.h"

namespace agentrt::agent {
namespace {

using Node = CompiledSchema::Node;

constexpr std::array<std::string_view, 2> kBoolTexts = {"true", "false"};
constexpr std::array<std::string_view, 1> kNullTexts = {"null"};
enum LiteralSet : uint8_t { kEnum = 0, kBool = 1, kNull = 2 };

bool is_ws(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
uint64_t bit(int i) {
  return uint64_t{1} << i;
}

uint8_t types_of(const Json& type) {
  auto one = [](const std::string& t) -> uint8_t {
    if (t == "string" || t == "str") return Node::kString;
    if (t == "integer" || t == "int") return Node::kInteger;
    if (t == "number" || t == "float") return Node::kNumber | Node::kInteger;
    if (t == "boolean" || t == "bool") return Node::kBoolean;
    if (t == "null") return Node::kNull;
    if (t == "object" || t == "dict") return Node::kObject;
    if (t == "array" || t == "list") return Node::kArray;
    return 0x7f;  // an unknown type name constrains nothing
  };
  if (type.is_string()) return one(type.get<std::string>());
  uint8_t mask = 0;
  if (type.is_array()) {
    for (const auto& t : type) {
      if (t.is_string()) mask |= one(t.get<std::string>());
    }
  }
  return mask ? mask : 0x7f;
}

}  // namespace

Node* CompiledSchema::make() {
  nodes_.push_back(std::make_unique<Node>());
  return nodes_.back().get();
}

const Node* CompiledSchema::compile(const Json& schema, int depth, bool closed_by_default) {
  if (depth > JsonSchemaMatcher::kMaxDepth - 2)
    throw std::invalid_argument("schema nested too deeply to constrain");
  Node* n = make();
  if (!schema.is_object()) {
    n->types = 0x7f;
  } else {
    n->types = schema.contains("type") ? types_of(schema["type"]) : 0x7f;
    if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty()) {
      if (schema["enum"].size() > 64) throw std::invalid_argument("enum with more than 64 options");
      for (const auto& v : schema["enum"]) n->enum_json.push_back(py_dumps(v));
    }
    if (schema.contains("const")) n->enum_json = {py_dumps(schema["const"])};
  }
  if (n->types & Node::kObject) {
    const Json empty = Json::object();
    const Json& props =
        schema.is_object() && schema.contains("properties") && schema["properties"].is_object()
            ? schema["properties"]
            : empty;
    if (props.size() > 64) throw std::invalid_argument("object with more than 64 properties");
    for (auto it = props.begin(); it != props.end(); ++it) {
      n->keys.push_back(it.key());
      n->values.push_back(compile(it.value(), depth + 1));
    }
    if (schema.is_object() && schema.contains("required") && schema["required"].is_array()) {
      for (const auto& r : schema["required"]) {
        for (size_t i = 0; i < n->keys.size(); ++i) {
          if (r.is_string() && n->keys[i] == r.get<std::string>()) n->required |= bit(static_cast<int>(i));
        }
      }
    }
    if (schema.is_object() && schema.contains("additionalProperties")) {
      const Json& ap = schema["additionalProperties"];
      if (ap.is_object()) n->additional = compile(ap, depth + 1);
      if (ap.is_boolean() && ap.get<bool>()) n->additional = compile(Json::object(), depth + 1);
    } else if (!closed_by_default && depth < JsonSchemaMatcher::kMaxDepth - 3) {
      n->additional = compile(Json::object(), depth + 1);
    }
  }
  if (n->types & Node::kArray) {
    if (depth < JsonSchemaMatcher::kMaxDepth - 3) {
      n->items = compile(schema.is_object() && schema.contains("items") ? schema["items"] : Json::object(),
                         depth + 1);
    } else {
      n->types &= static_cast<uint8_t>(~Node::kArray);
    }
  }
  if (n->types & Node::kObject && depth >= JsonSchemaMatcher::kMaxDepth - 3 && n->keys.empty()) {
    n->types &= static_cast<uint8_t>(~Node::kObject);
  }
  return n;
}

std::shared_ptr<const CompiledSchema> CompiledSchema::value(const Json& schema) {
  auto s = std::shared_ptr<CompiledSchema>(new CompiledSchema());
  Node* root = s->make();
  root->types = 0;  // the root is a wrapper; its one child is the value
  root->items = s->compile(schema, 1);
  s->root_ = root;
  return s;
}

std::shared_ptr<const CompiledSchema> CompiledSchema::tool_call(const Json& tools) {
  if (!tools.is_array() || tools.empty())
    throw std::invalid_argument("tool call constraint needs at least one tool");
  if (tools.size() > 64) throw std::invalid_argument("tool call constraint supports at most 64 tools");
  auto s = std::shared_ptr<CompiledSchema>(new CompiledSchema());
  Node* call = s->make();
  call->types = Node::kObject;
  call->ordered = true;
  Node* name = s->make();
  name->types = Node::kString;
  for (const auto& t : tools) {
    const Json& fn = t.contains("function") ? t["function"] : t;
    name->enum_json.push_back(py_dumps(fn.at("name")));
    Json params = fn.value("parameters", Json::object());
    if (!params.is_object()) params = Json::object();
    if (!params.contains("type")) params["type"] = "object";
    s->by_name_.push_back(s->compile(params, 2, /*closed_by_default=*/true));
  }
  Node* parameters = s->make();
  parameters->by_name = true;
  parameters->types = Node::kObject;
  call->keys = {"name", "parameters"};
  call->values = {name, parameters};
  call->required = 3;
  Node* root = s->make();
  root->items = call;
  s->root_ = root;
  return s;
}

JsonSchemaMatcher::JsonSchemaMatcher(const CompiledSchema& schema) : schema_(&schema) {
  Frame root{};
  root.node = schema.root();
  root.kind = Kind::Root;
  root.key = -1;
  root.chosen = -1;
  frames_[0] = root;
  depth_ = 1;
}

bool JsonSchemaMatcher::push(const Frame& f) {
  if (depth_ >= kMaxDepth) return false;
  frames_[static_cast<size_t>(depth_++)] = f;
  return true;
}

bool JsonSchemaMatcher::whitespace(Frame& f, unsigned char c) {
  if (!is_ws(c) || f.ws >= 1 + kWhitespacePerLevel * depth_) return false;
  ++f.ws;
  return true;
}

bool JsonSchemaMatcher::start_value(const Node* node, unsigned char c) {
  Frame f{};
  f.node = node;
  f.key = -1;
  f.chosen = -1;
  if (!node->enum_json.empty()) {
    for (size_t i = 0; i < node->enum_json.size(); ++i) {
      if (!node->enum_json[i].empty() && static_cast<unsigned char>(node->enum_json[i][0]) == c)
        f.cand |= bit(static_cast<int>(i));
    }
    if (f.cand == 0) return false;
    f.kind = Kind::Literal;
    f.aux = kEnum;
    f.pos = 1;
    return push(f);
  }
  if (c == '"' && (node->types & Node::kString)) {
    f.kind = Kind::String;
    return push(f);
  }
  if (c == '{' && (node->types & Node::kObject)) {
    f.kind = Kind::Object;
    return push(f);
  }
  if (c == '[' && (node->types & Node::kArray)) {
    f.kind = Kind::Array;
    return push(f);
  }
  if ((c == '-' || is_digit(c)) && (node->types & (Node::kInteger | Node::kNumber))) {
    f.kind = Kind::Number;
    if (!number_step(f, c, !(node->types & Node::kNumber))) return false;
    return push(f);
  }
  if ((c == 't' || c == 'f') && (node->types & Node::kBoolean)) {
    f.kind = Kind::Literal;
    f.aux = kBool;
    f.cand = c == 't' ? 1 : 2;
    f.pos = 1;
    return push(f);
  }
  if (c == 'n' && (node->types & Node::kNull)) {
    f.kind = Kind::Literal;
    f.aux = kNull;
    f.cand = 1;
    f.pos = 1;
    return push(f);
  }
  return false;
}

void JsonSchemaMatcher::pop_completed(int chosen_literal) {
  const Frame done = frames_[static_cast<size_t>(--depth_)];
  Frame& parent = frames_[static_cast<size_t>(depth_ - 1)];
  parent.ws = 0;
  switch (parent.kind) {
    case Kind::Root:
      parent.phase = 1;
      break;
    case Kind::Object:
      parent.phase = 4;
      if (parent.key >= 0) parent.seen |= bit(parent.key);
      if (chosen_literal >= 0) parent.chosen = static_cast<int16_t>(chosen_literal);
      break;
    case Kind::Array:
      parent.phase = 1;
      break;
    default:
      break;
  }
  (void)done;
}

bool JsonSchemaMatcher::number_accepting(uint8_t s) {
  return s == 2 || s == 3 || s == 5 || s == 8;
}

// JSON number DFA: 0 start, 1 after '-', 2 leading 0, 3 integer digits, 4 after '.', 5 fraction digits,
// 6 after 'e', 7 after exponent sign, 8 exponent digits.
bool JsonSchemaMatcher::number_step(Frame& f, unsigned char c, bool integer_only) {
  if (f.pos >= kMaxNumberBytes) return false;
  uint8_t next = 255;
  switch (f.aux) {
    case 0:
      next = c == '-' ? 1 : c == '0' ? 2 : is_digit(c) ? 3 : 255;
      break;
    case 1:
      next = c == '0' ? 2 : is_digit(c) ? 3 : 255;
      break;
    case 2:
      next = c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : 255;
      break;
    case 3:
      next = is_digit(c) ? 3 : c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : 255;
      break;
    case 4:
      next = is_digit(c) ? 5 : 255;
      break;
    case 5:
      next = is_digit(c) ? 5 : (c == 'e' || c == 'E') ? 6 : 255;
      break;
    case 6:
      next = (c == '+' || c == '-') ? 7 : is_digit(c) ? 8 : 255;
      break;
    case 7:
    case 8:
      next = is_digit(c) ? 8 : 255;
      break;
    default:
      break;
  }
  if (next == 255) return false;
  if (integer_only && (next == 4 || next == 6)) return false;
  f.aux = next;
  ++f.pos;
  return true;
}

int JsonSchemaMatcher::literal_match(const Frame& f) const {
  for (int i = 0; i < 64; ++i) {
    if (!(f.cand & bit(i))) continue;
    size_t size = f.aux == kEnum   ? f.node->enum_json[static_cast<size_t>(i)].size()
                  : f.aux == kBool ? kBoolTexts[static_cast<size_t>(i)].size()
                                   : kNullTexts[0].size();
    if (size == f.pos) return i;
  }
  return -1;
}

bool JsonSchemaMatcher::literal_can_end(const Frame& f) const {
  return literal_match(f) >= 0;
}

bool JsonSchemaMatcher::utf8_byte(Frame& f, unsigned char c) {
  // Strict UTF-8, as JSON parsers demand: no overlong forms, no surrogates, nothing past U+10FFFF.
  if (f.utf8_need > 0) {
    if (c < f.utf8_lo || c > f.utf8_hi) return false;
    --f.utf8_need;
    f.utf8_lo = 0x80;
    f.utf8_hi = 0xBF;
  } else if (c >= 0xC2 && c <= 0xDF) {
    f.utf8_need = 1, f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
  } else if (c == 0xE0) {
    f.utf8_need = 2, f.utf8_lo = 0xA0, f.utf8_hi = 0xBF;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    f.utf8_need = 2, f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
  } else if (c == 0xED) {
    f.utf8_need = 2, f.utf8_lo = 0x80, f.utf8_hi = 0x9F;
  } else if (c == 0xF0) {
    f.utf8_need = 3, f.utf8_lo = 0x90, f.utf8_hi = 0xBF;
  } else if (c >= 0xF1 && c <= 0xF3) {
    f.utf8_need = 3, f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
  } else if (c == 0xF4) {
    f.utf8_need = 3, f.utf8_lo = 0x80, f.utf8_hi = 0x8F;
  } else {
    return false;
  }
  ++f.pos;
  return true;
}

bool JsonSchemaMatcher::string_byte(Frame& f, unsigned char c) {
  if (f.utf8_need > 0) return utf8_byte(f, c);
  if (f.aux == 1) {  // after a backslash
    if (c == 'u') {
      f.aux = 2;
    } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
               c == 't') {
      f.aux = 0;
    } else {
      return false;
    }
    ++f.pos;
    return true;
  }
  if (f.aux >= 2) {  // \uXXXX
    if (!is_hex(c)) return false;
    f.aux = f.aux == 5 ? 0 : static_cast<uint8_t>(f.aux + 1);
    ++f.pos;
    return true;
  }
  if (c == '"') {
    pop_completed(-1);
    return true;
  }
  if (f.pos >= kMaxStringBytes) return false;
  if (c == '\\') {
    f.aux = 1;
  } else if (c < 0x20) {
    return false;
  } else if (c >= 0x80) {
    return utf8_byte(f, c);
  }
  ++f.pos;
  return true;
}

bool JsonSchemaMatcher::step(unsigned char c) {
  for (;;) {
    Frame& f = frames_[static_cast<size_t>(depth_ - 1)];
    switch (f.kind) {
      case Kind::Root:
        if (f.phase == 0 && !is_ws(c)) {
          f.ws = 0;
          return start_value(f.node->items, c);
        }
        return whitespace(f, c);

      case Kind::Number: {
        const bool integer_only = !(f.node->types & Node::kNumber);
        if (number_step(f, c, integer_only)) return true;
        if (!number_accepting(f.aux)) return false;
        pop_completed(-1);
        continue;  // the byte belongs to the enclosing value
      }

      case Kind::Literal: {
        uint64_t next = 0;
        for (int i = 0; i < 64; ++i) {
          if (!(f.cand & bit(i))) continue;
          std::string_view text = f.aux == kEnum ? std::string_view(f.node->enum_json[static_cast<size_t>(i)])
                                  : f.aux == kBool ? kBoolTexts[static_cast<size_t>(i)]
                                                   : kNullTexts[0];
          if (text.size() > f.pos && static_cast<unsigned char>(text[f.pos]) == c) next |= bit(i);
        }
        if (next != 0) {
          f.cand = next;
          ++f.pos;
          return true;
        }
        const int matched = literal_match(f);
        if (matched < 0) return false;
        pop_completed(f.aux == kEnum ? matched : -1);
        continue;
      }

      case Kind::String:
        return string_byte(f, c);

      case Kind::Array:
        if (is_ws(c)) return whitespace(f, c);
        f.ws = 0;
        if (f.phase == 1) {
          if (c == ',') {
            f.phase = 2;
            return true;
          }
          if (c == ']') {
            pop_completed(-1);
            return true;
          }
          return false;
        }
        if (f.phase == 0 && c == ']') {
          pop_completed(-1);
          return true;
        }
        return start_value(f.node->items, c);

      case Kind::Object: {
        const Node* n = f.node;
        const uint64_t all = n->keys.size() == 64 ? ~uint64_t{0} : bit(static_cast<int>(n->keys.size())) - 1;
        const uint64_t unseen = all & ~f.seen;
        const bool may_close = (n->required & ~f.seen) == 0;
        switch (f.phase) {
          case 0:  // after '{'
          case 5:  // after ','
            if (is_ws(c)) return whitespace(f, c);
            f.ws = 0;
            if (c == '}' && f.phase == 0 && may_close) {
              pop_completed(-1);
              return true;
            }
            if (c != '"') return false;
            f.phase = 1;
            f.pos = 0;
            f.key = -1;
            if (n->ordered) {
              f.cand = unseen & (~unseen + 1);  // only the first key not yet given
            } else {
              f.cand = unseen;
            }
            if (f.cand == 0 && n->additional == nullptr) return false;
            return true;
          case 1: {  // inside a key
            if (f.utf8_need > 0 || (c >= 0x80 && f.cand == 0)) {
              // An undeclared key (declared names are matched byte by byte below): strict UTF-8 as well.
              if (n->additional == nullptr || f.pos >= 256) return false;
              return utf8_byte(f, c);
            }
            if (c == '"') {
              for (int i = 0; i < static_cast<int>(n->keys.size()); ++i) {
                if ((f.cand & bit(i)) && n->keys[static_cast<size_t>(i)].size() == f.pos) {
                  f.key = static_cast<int16_t>(i);
                  f.phase = 2;
                  return true;
                }
              }
              if (n->additional == nullptr || f.pos == 0) return false;
              f.key = -1;
              f.phase = 2;
              return true;
            }
            if (c == '\\' || c < 0x20 || f.pos >= 256) return false;
            uint64_t next = 0;
            for (int i = 0; i < static_cast<int>(n->keys.size()); ++i) {
              const auto& k = n->keys[static_cast<size_t>(i)];
              if ((f.cand & bit(i)) && k.size() > f.pos && static_cast<unsigned char>(k[f.pos]) == c)
                next |= bit(i);
            }
            if (next == 0 && n->additional == nullptr) return false;
            if (next == 0 && c >= 0x80) {
              f.cand = 0;
              return utf8_byte(f, c);
            }
            f.cand = next;
            ++f.pos;
            return true;
          }
          case 2:  // after a key
            if (is_ws(c)) return whitespace(f, c);
            f.ws = 0;
            if (c != ':') return false;
            f.phase = 3;
            return true;
          case 3: {  // before a value
            if (is_ws(c)) return whitespace(f, c);
            f.ws = 0;
            const Node* child = f.key >= 0 ? n->values[static_cast<size_t>(f.key)] : n->additional;
            if (child == nullptr) return false;
            if (child->by_name) {
              if (f.chosen < 0) return false;
              child = schema_->parameters_of(f.chosen);
            }
            return start_value(child, c);
          }
          case 4:  // after a value
            if (is_ws(c)) return whitespace(f, c);
            f.ws = 0;
            if (c == '}' && may_close) {
              pop_completed(-1);
              return true;
            }
            if (c == ',' && (unseen != 0 || n->additional != nullptr)) {
              f.phase = 5;
              return true;
            }
            return false;
          default:
            return false;
        }
      }

      case Kind::Value:
        return false;
    }
  }
}

bool JsonSchemaMatcher::feed(unsigned char c) {
  if (failed_ || !step(c)) {
    failed_ = true;
    return false;
  }
  return true;
}

bool JsonSchemaMatcher::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!feed(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool JsonSchemaMatcher::complete() const {
  if (failed_) return false;
  JsonSchemaMatcher m = *this;
  while (m.depth_ > 1) {
    const Frame& f = m.frames_[static_cast<size_t>(m.depth_ - 1)];
    if (f.kind == Kind::Number && number_accepting(f.aux)) {
      m.pop_completed(-1);
    } else if (f.kind == Kind::Literal && m.literal_can_end(f)) {
      m.pop_completed(f.aux == kEnum ? m.literal_match(f) : -1);
    } else {
      return false;
    }
  }
  return m.frames_[0].phase == 1;
}

bool JsonSchemaMatcher::in_free_string() const {
  if (failed_ || depth_ < 2) return false;
  const Frame& f = frames_[static_cast<size_t>(depth_ - 1)];
  return f.kind == Kind::String && f.aux == 0 && f.utf8_need == 0;
}

int JsonSchemaMatcher::string_length() const {
  return depth_ >= 1 ? static_cast<int>(frames_[static_cast<size_t>(depth_ - 1)].pos) : 0;
}

}  // namespace agentrt::agent
