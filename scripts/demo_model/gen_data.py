"""Writes the demo model's synthetic data: training conversations rendered in the InternLM2 protocol with our
own system prompts (segments marked trained / not trained), and the held-out evaluation tasks.

Every tool result in the data is what the real tool returned: each distinct call is run once through
`agentrt tool` against the bundled catalog (examples/automation/docs), the CSV files of datasets.py (in a
workspace folder) and the local shipping service (examples/automation/shipping_service.py, started here on a few
ports), and its text is used verbatim.

    /usr/bin/python3 scripts/demo_model/gen_data.py --agentrt build/bin/agentrt --out build/demo-data
"""
import argparse
import concurrent.futures
import json
import pathlib
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import catalog  # noqa: E402
import datasets  # noqa: E402
import protocol  # noqa: E402
import tasks  # noqa: E402
import tasks_tools  # noqa: E402

TOOLS = "calculator,search,http,interpreter"
SERVICE = protocol.REPO / "examples" / "automation" / "shipping_service.py"


class ShippingService:
    """The example's shipping service on the given ports (those that could be bound)."""

    def __init__(self, ports):
        args = [a for port in ports for a in ("--port", str(port))]
        self.proc = subprocess.Popen(["/usr/bin/python3", str(SERVICE)] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.ports = []
        for _ in ports:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.strip().isdigit():
                self.ports.append(int(line))

    def close(self):
        self.proc.kill()
        self.proc.wait()


def service_ports(split, count):
    """Ports of one split: a keyed hash puts a port in the training or the held-out set. The held-out tasks use
    the first 4 of the eval side; training draws many more (spread over 20000-60000), so that a port is copied
    from the task rather than recalled from a short list."""
    if split == "train":
        rng = random.Random(77)
        out = set()
        while len(out) < count:
            port = rng.randrange(20000, 60000)
            if not tasks.held_out("port", port):
                out.add(port)
        return sorted(out)
    out, port = [], 20011
    while len(out) < count:
        if tasks.held_out("port", port):
            out.append(port)
        port += 1777
    return out


class ToolRunner:
    """Runs real tool calls through `agentrt tool`, once per distinct call."""

    def __init__(self, agentrt, docs, workspace=None):
        self.agentrt = agentrt
        self.tmp = tempfile.TemporaryDirectory(prefix="agentrt-demo-")
        index = pathlib.Path(self.tmp.name) / "index.db"
        subprocess.run([agentrt, "index", str(docs), "--db", str(index)], check=True, capture_output=True)
        self.config = pathlib.Path(self.tmp.name) / "tools.json"
        self.config.write_text(json.dumps({"search": {"index": str(index)}, "http": {"allow_loopback": True}}))
        self.workspace = pathlib.Path(workspace or pathlib.Path(self.tmp.name) / "workspace")
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.cache = {}

    def tools_json(self):
        out = subprocess.run([self.agentrt, "eval", "synthetic", "--print-tools", "--tools", TOOLS], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)

    def prefetch(self, calls, workers=3):
        """Runs the distinct calls among `calls` ((tool, params) pairs) on a few threads."""
        pending = {(tool, json.dumps(params, sort_keys=True)): (tool, params) for tool, params in calls}
        pending = [v for k, v in pending.items() if k not in self.cache]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda c: self.run(*c), pending))

    def run(self, tool, params):
        key = (tool, json.dumps(params, sort_keys=True))
        if key not in self.cache:
            proc = subprocess.run([self.agentrt, "tool", "--tools-config", str(self.config), "--workspace",
                                   str(self.workspace), tool, json.dumps(params)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"agentrt tool {tool} {params} failed: {proc.stderr.strip()}")
            self.cache[key] = json.loads(proc.stdout)
        return self.cache[key]


def fill_results(task, runner):
    """Runs the task's calls; returns the steps with results and the final answer with the results filled in."""
    steps, fill = [], {}
    for i, (thought, tool, params) in enumerate(task["calls"]):
        result = runner.run(tool, params)
        if not result["ok"] and tool != "calculator":
            raise RuntimeError(f"{tool} {params} failed: {result['text']}")
        fill[f"r{i}"] = result["text"]
        fill.update(tasks_tools.result_fields(i, result["text"]))
        steps.append((thought, tool, params, result["text"], True))
    answer = task["answer"].format(**fill)
    expected = task.get("expected") or fill[task.get("expect", f"r{len(task['calls']) - 1}")]
    return steps, answer, expected


TRAIN_PORTS = 120


def training_docs(folder, docs, extra_parts):
    """A folder with the bundled catalog's documents and those of the training-only parts (catalog.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in docs.glob("*.md"):
        (folder / path.name).write_text(path.read_text())
    for part in catalog.training_parts() + extra_parts:
        (folder / part["file"]).write_text(catalog.document(part))
    return folder


def finds_its_parts(task, runner):
    """True when every search of the task ranks the searched part's document first (the answers rely on it; a
    made-up name can share a word with another part's)."""
    for _, tool, params in task["calls"]:
        if tool == "search":
            top = runner.run(tool, params)["text"].split("[2]")[0]
            if f"local:{params['query'].replace(' ', '-')}.md" not in top:
                return False
    return True


def held_out_values(eval_ports):
    """What no training conversation may hold, lower-cased: the held-out part names, CSV files and ports."""
    values = [p["name"] for p in catalog.split_parts()[1]] + [t["name"] for t in datasets.tables("eval")]
    return [v.lower() for v in values + [f"127.0.0.1:{port}/" for port in eval_ports]]


def held_out_value_in(text, values):
    """The first of `values` (held_out_values) found in `text`, or None."""
    lowered = text.lower()
    return next((v for v in values if v in lowered), None)


def draw(rng, split, count, ports, parts, skip=frozenset(), families=None):
    out = []
    while len(out) < count:
        task = tasks.make_task(rng, split, ports, parts, families)
        if task["task"] not in skip:
            out.append(task)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True, help="the agentrt program")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--train", type=int, default=12000, help="training conversations")
    ap.add_argument("--eval", type=int, default=240, help="held-out evaluation tasks")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--workers", type=int, default=3, help="tool calls run at the same time")
    ap.add_argument("--families", help="comma-separated task families to draw (default: all of tasks.FAMILIES)")
    ap.add_argument("--fresh-parts", type=int, default=0,
                    help="look-ups name this many parts with unseen nouns (catalog.fresh_parts) instead of the "
                         "training parts: the copy drills of a third stage")
    args = ap.parse_args()
    families = args.families.split(",") if args.families else None
    unknown = sorted(set(families or []) - set(tasks.FAMILIES))
    if unknown:
        ap.error(f"unknown families {unknown}; known: {', '.join(tasks.FAMILIES)}")
    fresh = catalog.fresh_parts(args.fresh_parts) if args.fresh_parts else []

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Both splits' CSV files in one workspace: the held-out ones are only ever named by held-out tasks.
    datasets.write(out / "workspace", "train")
    datasets.write(out / "workspace", "eval")
    datasets.write(out / "eval_workspace", "eval")
    docs = protocol.REPO / "examples" / "automation" / "docs"
    runner = ToolRunner(args.agentrt, docs, out / "workspace")
    train_runner = ToolRunner(args.agentrt, training_docs(out / "train-docs", docs, fresh),
                              out / "workspace")
    tools = runner.tools_json()
    (out / "tools.json").write_text(json.dumps(tools, indent=2) + "\n")
    service = ShippingService(service_ports("train", TRAIN_PORTS) + service_ports("eval", 4))
    try:
        train_ports = [p for p in service.ports if p in service_ports("train", TRAIN_PORTS)]
        eval_ports = [p for p in service.ports if p in service_ports("eval", 4)]
        train, rng, parts = [], random.Random(args.seed), fresh or catalog.training_parts()
        while len(train) < args.train:
            more = draw(rng, "train", args.train - len(train), train_ports, parts, families=families)
            train_runner.prefetch([(tool, params) for t in more for _, tool, params in t["calls"]], args.workers)
            train += [t for t in more if finds_its_parts(t, train_runner)]
        evals = draw(random.Random(args.seed + 1), "eval", args.eval, eval_ports, catalog.split_parts()[1],
                     {t["task"] for t in train})
        runner.prefetch([(tool, params) for t in evals for _, tool, params in t["calls"]], args.workers)
        banned = held_out_values(eval_ports)
        with open(out / "train.jsonl", "w", encoding="utf-8") as f:
            for task in train:
                steps, answer, _ = fill_results(task, train_runner)
                segs = protocol.render_conversation(tools, task["task"], steps, answer)
                leak = held_out_value_in("".join(text for text, _ in segs), banned)
                if leak:
                    raise RuntimeError(f"a training conversation holds the held-out value {leak!r}: {task['task']}")
                f.write(json.dumps({"family": task["family"], "segments": segs}, ensure_ascii=False) + "\n")
        # The held-out tasks, and the same tasks rendered (train.py's --probe measures copying on them).
        with open(out / "eval_tasks.jsonl", "w", encoding="utf-8") as f, \
                open(out / "eval_conversations.jsonl", "w", encoding="utf-8") as g:
            for count, task in enumerate(evals):
                steps, answer, expected = fill_results(task, runner)
                row = {"id": f"heldout-{count:04d}", "family": task["family"], "task": task["task"],
                       "answer": expected, "reference": answer}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                segs = protocol.render_conversation(tools, task["task"], steps, answer)
                g.write(json.dumps({"family": task["family"], "segments": segs}, ensure_ascii=False) + "\n")
    finally:
        service.close()
    print(f"wrote {args.train} training conversations and {args.eval} held-out tasks to {out} "
          f"({len(runner.cache) + len(train_runner.cache)} distinct tool calls run)")


if __name__ == "__main__":
    main()
