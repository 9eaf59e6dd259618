// engine: the InternLM2 inference engine. It owns the model config, checkpoint loading (safetensors, memory
// mapped, sharded index, tensor-name mapping and wqkv layout), the sentencepiece tokenizer with the
// protocol's special tokens, the `Backend` interface with its CPU implementation (cpu/; the CUDA one goes in
// cuda/ and uses kernels/), the KV cache, the sampler, the streaming generate API and the random-checkpoint
// maker. It includes only kernels/, the standard library and third-party libraries (nlohmann_json,
// sentencepiece); it never includes agent/, tools/, sandbox/ or apps/ and knows nothing of agents.
//
// This header only gathers the public headers a user of the engine needs.
#pragma once

#include "engine/backend.h"
#include "engine/checkpoint.h"
#include "engine/config.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"
