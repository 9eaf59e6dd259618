#!/usr/bin/env bash
# Example 1, task automation: the agent looks parts up in a folder of local documents (the search tool over an
# index it builds here) and adds up an order with the calculator.
#
#   examples/automation/run.sh [agentrt run flags...] [-- "your task"]
#   examples/automation/run.sh --model /path/to/internlm2_5-7b-chat
#   examples/automation/run.sh --endpoint http://127.0.0.1:23333
# Without a model flag it runs the bundled demo model (models/demo). AGENTRT names the program
# (default: build/bin/agentrt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"

flags=()
task="What do 12 units of the copper faucet and 5 units of the steel trolley cost together?"
while (($#)); do
  if [[ "$1" == "--" ]]; then
    shift
    task="$*"
    break
  fi
  flags+=("$1")
  shift
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$agentrt" index "$here/docs" --db "$work/index.db" >/dev/null
printf '{"search": {"index": "%s"}}\n' "$work/index.db" >"$work/tools.json"

echo "== task: $task"
"$agentrt" run --tools calculator,search --tools-config "$work/tools.json" --max-turns 6 "${flags[@]}" "$task"
