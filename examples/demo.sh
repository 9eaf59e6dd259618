#!/usr/bin/env bash
# `make demo`: a real agent run end to end on the CPU: the bundled demo model (models/demo) on our engine, our
# tokenizer, sampler, parser, tools and search index. Prints the run as it happens, the answer, then the trace.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/bin/agentrt"
trace="$root/$build/demo-trace.jsonl"
rm -f "$trace"

echo "== AgentRT demo: the bundled demo model (models/demo, a 1M-parameter InternLM2 trained on synthetic tool use)"
echo "== looks two parts up in examples/automation/docs with the search tool and totals the order with the calculator"
echo "== (the demo model has learned the protocol and the steps, not yet the values: see models/demo/MODEL_CARD.md)"
echo
start=$(date +%s.%N)
AGENTRT="$bin" "$root/examples/automation/run.sh" --trace "$trace"
end=$(date +%s.%N)
echo
/usr/bin/python3 - "$trace" "$start" "$end" <<'PY'
import json, sys
print(f"== the agent's run took {float(sys.argv[3]) - float(sys.argv[2]):.1f} s; its trace ({sys.argv[1]}):")
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    detail = {k: v for k, v in e.items() if k not in ("run_id", "turn", "step", "kind", "t_ms")}
    text = json.dumps(detail, ensure_ascii=False)
    print(f"  turn {e['turn']} step {e['step']:2d} {e['kind']:<11} {text[:150]}")
PY
