#!/usr/bin/env bash
# `make demo`: one agent task end to end on the CPU, printing the run as it happens and then its trace.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/bin/agentrt"
trace="$root/$build/demo-trace.jsonl"
rm -f "$trace"

task="Which pays more after 12 years on 10,000: 4.5% compounded yearly or 4.2% compounded monthly?"
echo "== AgentRT demo: the agent loop with scripted model replies (the bundled demo model is not part of this build yet)"
echo "== task: $task"
echo
"$bin" run --script "$root/examples/scripted/compound_interest.replies.json" --tools calculator \
  --trace "$trace" "$task"
echo
echo "== trace ($trace):"
/usr/bin/python3 - "$trace" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    detail = {k: v for k, v in e.items() if k not in ("run_id", "turn", "step", "kind", "t_ms")}
    text = json.dumps(detail, ensure_ascii=False)
    print(f"  turn {e['turn']} step {e['step']:2d} {e['kind']:<11} {text[:150]}")
PY
