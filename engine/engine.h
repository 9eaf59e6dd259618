// engine: the InternLM2 inference engine. It owns the model config, checkpoint loading (safetensors, memory
// mapped, sharded index, tensor-name mapping and wqkv layout), the sentencepiece tokenizer with the
// protocol's special tokens (their one table: special_tokens.h), the `Backend` interface with its CPU (cpu/)
// and CUDA (cuda/, over kernels/) implementations, the KV cache, the sampler, the streaming generate API, the
// serving engine (serving/: continuous batching, paged KV blocks, prefix cache; docs/serving.md) and the
// random-checkpoint maker. It includes only kernels/, the standard library and third-party libraries
// (nlohmann_json, sentencepiece, CUDA); it never includes agent/, tools/, sandbox/, eval/ or apps/ and knows
// nothing of agents.
//
// This header only gathers the public headers a user of the engine needs.
#pragma once

#include "engine/backend.h"
#include "engine/checkpoint.h"
#include "engine/config.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "engine/serving/serving_engine.h"
#include "engine/special_tokens.h"
#include "engine/tokenizer.h"
