#!/usr/bin/env bash
# Example 3, data analysis and charting: the agent reads a CSV file (sales_2025.csv) in the Lua code interpreter,
# computes statistics with the csv and stats libraries and draws a chart with the chart library, as SVG and PNG.
# The files land in an output folder whose paths are printed at the end.
#
#   examples/data/run.sh [--out DIR] [agentrt run flags...] [-- "your task"]
#   examples/data/run.sh --model /path/to/internlm2_5-7b-chat
#   examples/data/run.sh --endpoint http://127.0.0.1:23333
# Without a model flag it runs the bundled demo model (models/demo). AGENTRT names the program
# (default: build/bin/agentrt). --out keeps the output folder (default: a new temporary folder, kept too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"

flags=()
task="Analyse sales_2025.csv: give the total and the mean of units and draw a bar chart of units by month as SVG and PNG."
own_value=""
split_example_args --out "$@"
out=$own_value
if [[ -z "$out" ]]; then out=$(mktemp -d -t agentrt-data-XXXXXX); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cp "$here/sales_2025.csv" "$out/"

echo "== task: $task"
echo "== workspace: $out (holds sales_2025.csv; the interpreter writes its files here)"
"$agentrt" run --tools calculator,search,http,interpreter --workspace "$out" --max-turns 4 \
  ${flags[@]+"${flags[@]}"} "$task"
echo
echo "== files written by the agent:"
found=0
for f in "$out"/*.svg "$out"/*.png; do
  [[ -e "$f" ]] || continue
  found=1
  echo "   $f ($(wc -c <"$f") bytes)"
done
if ((found == 0)); then
  echo "   (none)"
  exit 1
fi
