"""Checks that training conversations are byte-identical to what the real runtime shows the model: replays the
model's turns of a few conversations through `agentrt eval synthetic --script` (the real session, registry, tools
and renderer), and compares every prompt the session sent with the conversation's text up to that turn. Also
checks that the tool results in the data are what the real tools return (the session runs them again).

    /usr/bin/python3 scripts/demo_model/check_render.py --agentrt build/bin/agentrt --data DIR [--count N]
Exit status 0 when every prompt matches."""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_data  # noqa: E402
import protocol  # noqa: E402


def expected_prompts(segments):
    """The prompt before each model turn: every segment before a trained one (the text has no <s>)."""
    prompts, text = [], ""
    for seg, trained in segments:
        if trained:
            prompts.append(text)
        text += seg
    return prompts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--data", required=True, help="folder with train.jsonl (gen_data.py)")
    ap.add_argument("--count", type=int, default=12, help="conversations to check")
    args = ap.parse_args()

    convs = [json.loads(line) for line in open(pathlib.Path(args.data) / "train.jsonl", encoding="utf-8")]
    # One of each family first, then the rest in order.
    picked, families = [], set()
    for c in convs:
        if c["family"] not in families:
            families.add(c["family"])
            picked.append(c)
    picked += [c for c in convs if c not in picked][: max(0, args.count - len(picked))]

    data = pathlib.Path(args.data)
    runner = gen_data.ToolRunner(args.agentrt, data / "train-docs", data / "workspace")
    service = gen_data.ShippingService(gen_data.service_ports("train", gen_data.TRAIN_PORTS))
    with tempfile.TemporaryDirectory(prefix="agentrt-render-check-") as tmp:
        tmp = pathlib.Path(tmp)
        replies, tasks, want = [], [], {}
        for i, c in enumerate(picked):
            user = c["segments"][0][0].rsplit(protocol.IM_START + "user\n", 1)[1]
            task = user[: -len(protocol.IM_END + "\n")]
            tasks.append({"id": f"c{i}", "family": c["family"], "task": task, "answer": "0"})
            replies += [seg[: -len(protocol.IM_END)] for seg, trained in c["segments"] if trained]
            want[f"c{i}"] = expected_prompts(c["segments"])
        (tmp / "replies.json").write_text(json.dumps(replies))
        (tmp / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
        subprocess.run([args.agentrt, "eval", "synthetic", "--script", str(tmp / "replies.json"), "--tasks",
                        str(tmp / "tasks.jsonl"), "--tools", gen_data.TOOLS, "--tools-config", str(runner.config),
                        "--workspace", str(runner.workspace), "--out", str(tmp / "out.json"), "--dump-prompts",
                        str(tmp / "prompts.jsonl"), "--quiet"], check=True, capture_output=True)
        service.close()
        got = {}
        for line in open(tmp / "prompts.jsonl", encoding="utf-8"):
            row = json.loads(line)
            got.setdefault(row["id"], []).append(row["prompt"])
    bad = 0
    for key, prompts in want.items():
        if got.get(key) != prompts:
            bad += 1
            have = got.get(key, [])
            for k, p in enumerate(prompts):
                h = have[k] if k < len(have) else ""
                if h != p:
                    at = next((j for j in range(min(len(h), len(p))) if h[j] != p[j]), min(len(h), len(p)))
                    print(f"{key} prompt {k}: differs at byte {at}: runtime {h[at - 40:at + 60]!r} "
                          f"vs data {p[at - 40:at + 60]!r}")
                    break
    total = sum(len(p) for p in want.values())
    print(f"{len(want) - bad}/{len(want)} conversations ({total} prompts) byte-identical to the runtime's prompts")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
