#!/usr/bin/env bash
# `make demo`: a real agent end to end on the CPU: the bundled demo model (models/demo) on our engine, tokenizer,
# sampler, parser and Lua sandbox. Runs example 3 live (a CSV in, statistics and a chart as SVG and PNG out: the
# run as it happens, the answer, the files, then the trace), then all 12 problems of example 2 with each answer
# checked. Example 1 (search, calculator, http) is run by tests/examples.
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

echo "== AgentRT demo: the bundled demo model (models/demo: a 1.4M-parameter InternLM2 trained here, on the CPU, on"
echo "== synthetic tool use; what it is and is not: models/demo/MODEL_CARD.md) analyses a CSV file and draws a"
echo "== chart by writing a Lua cell that the sandboxed interpreter runs (examples/data)"
echo
echo "== 1. example 3, live"
start=$(date +%s.%N)
"$root/examples/data/run.sh" --out "$traces/data" --trace "$traces/data.jsonl"
end=$(date +%s.%N)
echo
show_trace "$traces/data.jsonl" "$start" "$end"

echo
echo "== 2. example 2: 12 word problems with values the model never saw, solved in Lua cells, each answer checked"
start=$(date +%s.%N)
"$root/examples/math/run.sh"
end=$(date +%s.%N)
echo "== the 12 problems took $(/usr/bin/python3 -c "print(f'{$end - $start:.1f}')") s"
echo
echo "== more: examples/automation (search, calculator, then an HTTP quote from a local service it starts);"
echo "== each example runs with --model DIR (a real InternLM2 checkpoint) or --endpoint URL as well"
