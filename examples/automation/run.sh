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
# A fixed default port, so that a run of the demo model is reproducible: it copies about 5 in 6 of the ports it
# never saw (25 of 30 random ones) into its call, and this one right. When it is taken, a free port is used.
default_port=28731
own_value=""
split_example_args --port "$@"
requested_port=${own_value:-$default_port}

work=$(mktemp -d)
service_pid=""
cleanup() {
  if [[ -n "$service_pid" ]]; then kill "$service_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The service prints the port it bound ("-" when it cannot bind it; 0 asks for a free one) and serves until killed.
# Each start has a port file of its own: a second start must never read what the first one wrote.
starts=0
start_service() {
  starts=$((starts + 1))
  local port_file="$work/port.$starts"
  /usr/bin/python3 "$here/shipping_service.py" --port "$1" >"$port_file" 2>"$work/service.err" &
  service_pid=$!
  # Until its line is written, or it ended without one (a busy machine may take seconds to start Python).
  for _ in $(seq 600); do
    [[ -s "$port_file" ]] && break
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.05
  done
  port=$(head -n 1 "$port_file" 2>/dev/null || true)
}
start_service "$requested_port"
if [[ "$port" == "-" && -z "$own_value" ]]; then
  kill "$service_pid" 2>/dev/null || true
  start_service 0
fi
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
