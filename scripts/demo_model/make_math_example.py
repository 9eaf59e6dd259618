"""Writes examples/math/problems.jsonl: word problems from the demo model's Lua templates with held-out values
(never in its training data), each with its answer as the real interpreter computes it.

    /usr/bin/python3 scripts/demo_model/make_math_example.py --agentrt build/bin/agentrt [--count 12]"""
import argparse
import json
import pathlib
import random
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_data  # noqa: E402
import protocol  # noqa: E402
import tasks_tools  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    runner = gen_data.ToolRunner(args.agentrt, protocol.REPO / "examples" / "automation" / "docs")
    rng = random.Random(args.seed)
    out = protocol.REPO / "examples" / "math" / "problems.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        for i in range(args.count):
            task = tasks_tools.lua_word(rng, "eval")
            _, _, expected = gen_data.fill_results(task, runner)
            f.write(json.dumps({"id": f"math-{i + 1:02d}", "family": "lua_math", "task": task["task"],
                                "answer": expected}) + "\n")
    print(f"wrote {args.count} problems to {out}")


if __name__ == "__main__":
    main()
