# Sourced by the examples' run.sh scripts: sets `root` (the repository) and `agentrt` (the program: $AGENTRT,
# default build/bin/agentrt), or stops with a clear error when the program is missing. `here` must be set.
root=$(cd "$here/../.." && pwd)
agentrt=${AGENTRT:-$root/build/bin/agentrt}
if [[ ! -x "$agentrt" ]]; then
  echo "$(basename "$here"): error: $agentrt not found; build first (make build) or set AGENTRT" >&2
  exit 1
fi
