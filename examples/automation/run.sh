#!/usr/bin/env bash
# Example 1, task automation: the agent looks a part up in a folder of local documents (the search tool over an
# index built here), works out the order's weight with the calculator, and asks a local shipping service (started
# here, shipping_service.py) for a quote over HTTP.
#
#   examples/automation/run.sh [--port N] [agentrt run flags...] [-- "your task"]
#   examples/automation/run.sh --model /path/to/internlm2_5-7b-chat
#   examples/automation/run.sh --endpoint http://127.0.0.1:23333
# Without a model flag it runs the bundled demo model (models/demo). AGENTRT names the program
# (default: build/bin/agentrt). In your own task, {service} stands for the shipping service's URL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"

flags=()
task="What does it cost to ship 12 units of the copper faucet? The shipping service is at {service}."
own_value=0
split_example_args --port "$@"
requested_port=$own_value

work=$(mktemp -d)
service_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then kill "$service_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The service prints the port it bound (--port, default 0: a free one) and then serves until killed.
/usr/bin/python3 "$here/shipping_service.py" --port "$requested_port" >"$work/port" &
service_pid=$!
for _ in $(seq 100); do
  [[ -s "$work/port" ]] && break
  sleep 0.05
done
port=$(head -n 1 "$work/port")
if [[ ! "$port" =~ ^[0-9]+$ ]]; then
  echo "automation: error: the shipping service did not start (port ${requested_port}: in use?)" >&2
  exit 1
fi
service="http://127.0.0.1:$port/quote"
task=${task//\{service\}/$service}

"$agentrt" index "$here/docs" --db "$work/index.db" >/dev/null
# The service listens on loopback, which the http tool refuses unless told otherwise.
printf '{"search": {"index": "%s"}, "http": {"allow_loopback": true}}\n' "$work/index.db" >"$work/tools.json"

echo "== shipping service: $service"
echo "== task: $task"
# The demo model was trained with exactly these four tools offered (models/demo/MODEL_CARD.md).
"$agentrt" run --tools calculator,search,http,interpreter --tools-config "$work/tools.json" --max-turns 6 \
  ${flags[@]+"${flags[@]}"} "$task"
