// A hook into sampling: something outside the engine (the agent's tool-call constraint) may mask the logits
// before each token is chosen and is told which token was chosen. The engine knows nothing of what it enforces.
#pragma once

#include <cstdint>
#include <span>

namespace agentrt::engine {

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  // Called with the logits [vocab] of the next token, before penalties and sampling; may set entries to -inf.
  virtual void process(std::span<float> logits) = 0;
  // Called with the token that was chosen.
  virtual void accept(int32_t token) = 0;
};

}  // namespace agentrt::engine
