#!/usr/bin/env bash
# Example 2, math with the code interpreter: grade-school word problems (problems.jsonl) solved by the agent in
# Lua cells run by the sandboxed interpreter, each final answer checked against the known result.
#
#   examples/math/run.sh [agentrt backend flags...]     e.g. --model DIR or --endpoint URL
# Without a model flag it runs the bundled demo model (models/demo). AGENTRT names the program
# (default: build/bin/agentrt). Exit status 0 when every problem is answered correctly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The demo model was trained with exactly these four tools offered (models/demo/MODEL_CARD.md).
"$agentrt" eval synthetic --tasks "$here/problems.jsonl" --tools calculator,search,http,interpreter --quiet \
  --out "$work/results.json" "$@" >/dev/null
/usr/bin/python3 - "$work/results.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
for r in report["results"]:
    mark = "ok " if r["success"] else "WRONG"
    def shown(c):
        args = c.get("arguments", {})
        what = c.get("code", args.get("expression", json.dumps(args)))
        return f"{c['tool']}({' | '.join(what.splitlines())}) = {' | '.join(str(c.get('result', '?')).splitlines())}"
    calls = "; ".join(shown(c) for c in r["calls"])
    print(f"[{mark}] {r['task']}\n        calls: {calls}\n        answer: {r['answer']}   (expected {r['expected']})")
s = report["summary"]
right = sum(r["success"] for r in report["results"])
print(f"\n{right}/{s['tasks']} correct; tool-call validity {s['tool_call_validity']:.0%}")
sys.exit(0 if right == s["tasks"] else 1)
PY
