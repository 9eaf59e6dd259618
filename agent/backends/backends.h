// agent/backends: the language-model backends behind agent::LLMBackend (agent/llm_backend.h): the local
// engine in process (CPU or CUDA, with the serving scheduler when it batches), a remote OpenAI-compatible
// server (lmdeploy, vLLM, llama-server), and scripted replies; plus the tool-call constraint that makes a
// local model's plugin calls fit their schemas (JSON-schema matcher over a vocabulary index). It is the only
// agent code that touches the engine or HTTP. It may include agent/ (core), engine/, prompts/ and third-party
// libraries; never tools/, sandbox/, eval/ or apps/.
//
// This header gathers the three backends.
#pragma once

#include "agent/backends/backend_local.h"     // IWYU pragma: export
#include "agent/backends/backend_remote.h"    // IWYU pragma: export
#include "agent/backends/backend_scripted.h"  // IWYU pragma: export
