#!/usr/bin/env bash
# `make demo`: a real agent end to end on the CPU: the bundled demo model (models/demo) on our engine, tokenizer,
# sampler, parser and Lua sandbox. Runs one word problem of example 2 live (the run as it happens, the answer,
# then the trace), then all 12 problems of example 2 with each answer checked. Example 2 is the one the demo model
# gets right; examples 1 and 3 show more tools and are run by tests/examples.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export AGENTRT="$root/$build/bin/agentrt"
traces="$root/$build/demo-traces"
rm -rf "$traces"
mkdir -p "$traces"

show_trace() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
print(f"== the agent's run took {float(sys.argv[3]) - float(sys.argv[2]):.1f} s; its trace ({sys.argv[1]}):")
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    detail = {k: v for k, v in e.items() if k not in ("run_id", "turn", "step", "kind", "t_ms")}
    text = json.dumps(detail, ensure_ascii=False)
    print(f"  turn {e['turn']} step {e['step']:2d} {e['kind']:<11} {text[:150]}")
PY
}

echo "== AgentRT demo: the bundled demo model (models/demo: a 2M-parameter InternLM2 trained here, on the CPU, on"
echo "== synthetic tool use; what it is and is not: models/demo/MODEL_CARD.md) solves grade-school word problems"
echo "== by writing Lua cells that the sandboxed interpreter runs (examples/math)"
echo
task=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["task"])' \
  "$root/examples/math/problems.jsonl")
echo "== 1. one problem, live: $task"
start=$(date +%s.%N)
"$AGENTRT" run --max-turns 4 --trace "$traces/problem.jsonl" "$task"
end=$(date +%s.%N)
echo
show_trace "$traces/problem.jsonl" "$start" "$end"

echo
echo "== 2. all 12 problems of examples/math (values the model never saw), each answer checked"
start=$(date +%s.%N)
"$root/examples/math/run.sh"
end=$(date +%s.%N)
echo "== the 12 problems took $(/usr/bin/python3 -c "print(f'{$end - $start:.1f}')") s"
echo
echo "== more: examples/automation (search, calculator, http) and examples/data (a CSV, statistics, a chart);"
echo "== the demo model gets those right less often (models/demo/MODEL_CARD.md): try them with --model or --endpoint"
