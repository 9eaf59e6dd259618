# Sourced by the examples' run.sh scripts: sets `root` (the repository) and `agentrt` (the program: $AGENTRT,
# default build/bin/agentrt), or stops with a clear error when the program is missing, and defines
# split_example_args. `here` must be set.
root=$(cd "$here/../.." && pwd)
agentrt=${AGENTRT:-$root/build/bin/agentrt}
if [[ ! -x "$agentrt" ]]; then
  echo "$(basename "$here"): error: $agentrt not found; build it first (make demo or make build) or set AGENTRT" >&2
  exit 1
fi

# split_example_args OPTION ARGS...: an example's command line. The value of its own OPTION (e.g. --port) goes to
# `own_value`, the words after `--` replace `task`, everything else is appended to `flags` for agentrt run.
split_example_args() {
  local own=$1
  shift
  while (($#)); do
    case "$1" in
      "$own")
        own_value=${2:?$own needs a value}
        shift 2
        ;;
      --)
        shift
        task="$*"
        break
        ;;
      *)
        flags+=("$1")
        shift
        ;;
    esac
  done
}
