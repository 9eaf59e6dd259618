"""Runs `agentrt eval synthetic` on the held-out tasks with everything they need: the search index over
examples/automation/docs, a workspace holding the held-out CSV files (datasets.py writes them again), and the
shipping service on the ports the tasks name.

    /usr/bin/python3 scripts/demo_model/eval_model.py --agentrt build/bin/agentrt \\
        [--tasks models/demo/eval_tasks.jsonl] [--out eval.json] [agentrt backend flags, e.g. --model DIR]
Prints the summary (JSON) that agentrt prints; exit status is agentrt's."""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import datasets  # noqa: E402
import gen_data  # noqa: E402
import protocol  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--tasks", default=str(protocol.REPO / "models" / "demo" / "eval_tasks.jsonl"))
    ap.add_argument("--out", default="eval.json")
    ap.add_argument("--limit", type=int, default=0)
    args, backend = ap.parse_known_args()

    tasks_text = pathlib.Path(args.tasks).read_text(encoding="utf-8")
    ports = sorted({int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)/", tasks_text)})
    with tempfile.TemporaryDirectory(prefix="agentrt-demo-eval-") as tmp:
        tmp = pathlib.Path(tmp)
        runner = gen_data.ToolRunner(args.agentrt, protocol.REPO / "examples" / "automation" / "docs",
                                     tmp / "workspace")
        datasets.write(runner.workspace, "eval")
        service = gen_data.ShippingService(ports) if ports else None
        try:
            if service and len(service.ports) != len(ports):
                raise SystemExit(f"could not listen on every port the tasks name: {ports}")
            cmd = [args.agentrt, "eval", "synthetic", "--tasks", args.tasks, "--tools", gen_data.TOOLS,
                   "--tools-config", str(runner.config), "--workspace", str(runner.workspace), "--quiet",
                   "--out", args.out]
            if args.limit:
                cmd += ["--limit", str(args.limit)]
            return subprocess.run(cmd + backend).returncode
        finally:
            if service:
                service.close()


if __name__ == "__main__":
    sys.exit(main())
