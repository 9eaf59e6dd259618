"""Writes the demo model's synthetic data: training conversations rendered in the InternLM2 protocol with our
own system prompts (segments marked trained / not trained), and the held-out evaluation tasks.

Every tool result in the data is what the real tool returned: each distinct call is run once through
`agentrt tool` against the bundled catalog (examples/automation/docs) and its text is used verbatim.

    /usr/bin/python3 scripts/demo_model/gen_data.py --agentrt build/bin/agentrt --out build/demo-data
"""
import argparse
import json
import pathlib
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402
import tasks  # noqa: E402

TOOLS = "calculator,search"


class ToolRunner:
    """Runs real tool calls through `agentrt tool`, once per distinct call."""

    def __init__(self, agentrt, docs):
        self.agentrt = agentrt
        self.tmp = tempfile.TemporaryDirectory(prefix="agentrt-demo-")
        index = pathlib.Path(self.tmp.name) / "index.db"
        subprocess.run([agentrt, "index", str(docs), "--db", str(index)], check=True, capture_output=True)
        self.config = pathlib.Path(self.tmp.name) / "tools.json"
        self.config.write_text(json.dumps({"search": {"index": str(index)}}))
        self.cache = {}

    def tools_json(self):
        out = subprocess.run([self.agentrt, "eval", "synthetic", "--print-tools", "--tools", TOOLS], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)

    def run(self, tool, params):
        key = (tool, json.dumps(params, sort_keys=True))
        if key not in self.cache:
            proc = subprocess.run([self.agentrt, "tool", "--tools-config", str(self.config), tool, json.dumps(params)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"agentrt tool {tool} {params} failed: {proc.stderr.strip()}")
            self.cache[key] = json.loads(proc.stdout)
        return self.cache[key]


def fill_results(task, runner):
    """Runs the task's calls; returns the steps with results and the final answer with the results filled in."""
    steps, texts = [], []
    for thought, tool, params in task["calls"]:
        result = runner.run(tool, params)
        texts.append(result["text"])
        steps.append((thought, tool, params, result["text"], True))
    fill = {f"r{i}": t for i, t in enumerate(texts)}
    answer = task["answer"].format(**fill)
    expected = task.get("expected") or texts[-1]
    return steps, answer, expected


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True, help="the agentrt program")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--train", type=int, default=6000, help="training conversations")
    ap.add_argument("--eval", type=int, default=200, help="held-out evaluation tasks")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runner = ToolRunner(args.agentrt, protocol.REPO / "examples" / "automation" / "docs")
    tools = runner.tools_json()
    (out / "tools.json").write_text(json.dumps(tools, indent=2) + "\n")

    rng = random.Random(args.seed)
    seen_tasks = set()
    with open(out / "train.jsonl", "w", encoding="utf-8") as f:
        count = 0
        while count < args.train:
            task = tasks.make_task(rng, "train")
            steps, answer, _ = fill_results(task, runner)
            seen_tasks.add(task["task"])
            segs = protocol.render_conversation(tools, task["task"], steps, answer)
            f.write(json.dumps({"family": task["family"], "segments": segs}, ensure_ascii=False) + "\n")
            count += 1

    eval_rng = random.Random(args.seed + 1)
    with open(out / "eval_tasks.jsonl", "w", encoding="utf-8") as f:
        count = 0
        while count < args.eval:
            task = tasks.make_task(eval_rng, "eval")
            if task["task"] in seen_tasks:
                continue
            _, answer, expected = fill_results(task, runner)
            row = {"id": f"heldout-{count:04d}", "family": task["family"], "task": task["task"],
                   "answer": expected, "reference": answer}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    print(f"wrote {args.train} training conversations and {args.eval} held-out tasks to {out} "
          f"({len(runner.cache)} distinct tool calls run)")


if __name__ == "__main__":
    main()
