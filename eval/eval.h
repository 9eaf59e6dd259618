// eval: scores models and the agent. It owns T-Eval's data reader, metrics (with the Python value semantics
// its evaluators rely on) and runner (teval_*.h, docs/teval.md), and the synthetic held-out tasks of the demo
// model (synthetic.h). It may include agent/ (core: the renderer, session, registry and the LLMBackend
// interface), prompts/ and third-party libraries; never tools/, sandbox/, engine/ or apps/. Only apps/
// include it.
//
// This header gathers the library's entry points.
#pragma once

#include "eval/synthetic.h"     // IWYU pragma: export
#include "eval/teval_data.h"    // IWYU pragma: export
#include "eval/teval_runner.h"  // IWYU pragma: export
