#include "agent/backends/backend_local.h"

#include <algorithm>
#include <stdexcept>

#include "agent/backends/reply_schema_constraint.h"
#include "agent/backends/tool_call_constraint.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/serving/serving_engine.h"

namespace agentrt::agent {

LocalEngineBackend::LocalEngineBackend(const std::filesystem::path& model_dir, LocalEngineOptions options)
    : dir_(model_dir) {
  engine::ModelOptions model_options;
  model_options.backend = options.backend;
  model_options.threads = options.threads;
  model_options.weights = options.weights;
  model_options.kv_cache = options.kv_cache;
  model_options.prefill_activations = options.prefill_activations;
  model_options.progress = options.progress;
  try {
    model_ = engine::Model::load(model_dir, model_options);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("local engine: cannot load the model: ") + e.what());
  }
}

LocalEngineBackend::~LocalEngineBackend() = default;

bool LocalEngineBackend::can_serve() const {
  // A one-block store of the default block size: cheap, and only a backend with paging makes one.
  return model_->backend().new_block_store(1, 16) != nullptr;
}

void LocalEngineBackend::start_serving(const engine::serving::SchedulerOptions& options) {
  if (serving_) throw std::logic_error("local engine: serving already started");
  serving_ =
      std::make_unique<engine::serving::ServingEngine>(model_->backend(), model_->tokenizer(), options);
}

std::string LocalEngineBackend::name() const {
  return "local:" + dir_.string();
}

const engine::Tokenizer& LocalEngineBackend::tokenizer() const {
  return model_->tokenizer();
}

const std::string& LocalEngineBackend::summary() const {
  return model_->summary();
}

MarkerIds LocalEngineBackend::marker_ids() const {
  const auto& tok = model_->tokenizer();
  MarkerIds ids;
  for (const auto& spelling : kMarkers) {
    if (spelling.token == Marker::Bos) {
      ids[tok.bos_id()] = Marker::Bos;
    } else if (spelling.token == Marker::Eos) {
      ids[tok.eos_id()] = Marker::Eos;
    } else if (const auto id = tok.special_id(spelling.text)) {
      ids[*id] = spelling.token;
    } else if (const auto raw = tok.special_id(spelling.piece)) {
      ids[*raw] = spelling.token;
    }
  }
  return ids;
}

std::shared_ptr<const VocabularyIndex> LocalEngineBackend::vocabulary() {
  std::lock_guard lock(vocabulary_mutex_);
  if (!vocabulary_) {
    const auto& tok = model_->tokenizer();
    std::vector<std::string> bytes(static_cast<size_t>(tok.vocab_size()));
    std::vector<bool> control(bytes.size(), false);
    for (int32_t id = 0; id < tok.vocab_size(); ++id) {
      control[static_cast<size_t>(id)] = tok.is_special(id) || id == tok.bos_id() || id == tok.eos_id();
      if (!control[static_cast<size_t>(id)]) bytes[static_cast<size_t>(id)] = tok.token_bytes(id);
    }
    vocabulary_ = std::make_shared<VocabularyIndex>(std::move(bytes), std::move(control));
  }
  return vocabulary_;
}

Completion LocalEngineBackend::generate(const std::string& prompt, const GenerationParams& params,
                                        const ChunkCallback& on_chunk) {
  const bool constrain_calls = params.constrain_tools.is_array() && !params.constrain_tools.empty();
  if (!params.response_schema.is_null()) {
    // The reply is the schema's JSON (or, when calls are allowed, a call that the tool constraint holds).
    const MarkerIds markers = marker_ids();
    const auto& tok = model_->tokenizer();
    std::vector<int32_t> end_ids{tok.eos_id()};
    if (const auto im_end = tok.special_id(text_of(Marker::ImEnd))) end_ids.push_back(*im_end);
    std::unique_ptr<ToolCallConstraint> calls;
    if (params.response_allows_calls && constrain_calls) {
      calls = std::make_unique<ToolCallConstraint>(vocabulary(), params.constrain_tools, markers);
    }
    std::unique_ptr<ReplySchemaConstraint> reply;
    try {
      reply =
          std::make_unique<ReplySchemaConstraint>(vocabulary(), params.response_schema, std::move(end_ids),
                                                  markers, params.response_allows_calls, std::move(calls));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("local engine: cannot hold the reply to this schema: ") +
                                  e.what());
    }
    return generate_with(prompt, params, on_chunk, reply.get());
  }
  if (constrain_calls) {
    const MarkerIds markers = marker_ids();
    ToolCallConstraint constraint(vocabulary(), params.constrain_tools, markers);
    // A prompt that already opens a plugin call (a caller forcing a call) starts the constraint inside it.
    for (const auto& opener :
         {std::string(text_of(Marker::ActionStart)) + std::string(text_of(Marker::Plugin)),
          std::string(spelling(Marker::ActionStart).piece) + std::string(spelling(Marker::Plugin).piece)}) {
      if (prompt.ends_with(opener) || prompt.ends_with(opener + "\n")) {
        for (const auto& [id, marker] : markers) {
          if (marker == Marker::ActionStart) constraint.accept(id);
        }
        for (const auto& [id, marker] : markers) {
          if (marker == Marker::Plugin) constraint.accept(id);
        }
        if (prompt.ends_with("\n")) constraint.accept_text("\n");
        break;
      }
    }
    return generate_with(prompt, params, on_chunk, &constraint);
  }
  return generate_with(prompt, params, on_chunk, nullptr);
}

Completion LocalEngineBackend::generate_with(const std::string& prompt, const GenerationParams& params,
                                             const ChunkCallback& on_chunk,
                                             engine::LogitsProcessor* processor) {
  // The serving engine batches concurrent calls itself; without it the backend runs one sequence at a time.
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!serving_) lock.lock();
  const auto& tok = model_->tokenizer();
  engine::GenerateOptions options;
  options.max_tokens = params.max_tokens;
  options.sampling.temperature = params.temperature;
  options.sampling.top_p = params.top_p;
  options.sampling.top_k = params.top_k;
  options.sampling.min_p = params.min_p;
  options.sampling.repetition_penalty = params.repetition_penalty;
  options.sampling.presence_penalty = params.presence_penalty;
  options.sampling.seed = params.seed;
  options.stop_strings = params.stop;
  options.stop_ids = params.stop_ids;
  options.logits_processor = processor;
  // The protocol's end of turn (../shared/spec/internlm2-protocol.md §1), whatever the caller asked for.
  options.stop_ids.push_back(tok.eos_id());
  if (const auto im_end = tok.special_id(text_of(Marker::ImEnd))) options.stop_ids.push_back(*im_end);

  engine::GenerateResult result;
  try {
    const auto ids = tok.encode(prompt, /*add_bos=*/true);
    const auto forward_event = [&](const engine::TokenEvent& event) {
      if (!on_chunk) return true;
      TokenChunk chunk;
      chunk.text = event.text;
      if (event.id >= 0) chunk.ids.push_back(event.id);
      return on_chunk(chunk);
    };
    if (serving_) {
      result = serving_->generate(ids, options, forward_event);
    } else {
      engine::Generator generator(model_->backend(), tok);
      result = generator.generate(ids, options, forward_event);
    }
  } catch (const std::invalid_argument& e) {
    // The request itself is at fault (e.g. it can never fit in the KV cache): the caller answers 400.
    throw std::invalid_argument(std::string("local engine: ") + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("local engine: ") + e.what());
  }
  Completion completion;
  completion.text = std::move(result.text);
  completion.ids = std::move(result.ids);
  completion.finish_reason = result.finish_reason;
  completion.stop = result.stop;
  completion.prompt_tokens = result.prompt_tokens;
  completion.completion_tokens = result.completion_tokens;
  return completion;
}

}  // namespace agentrt::agent
