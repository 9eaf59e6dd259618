#!/usr/bin/python3
"""Token-for-token comparison of a remote engine with agentrt's own, on the prompts of a real agent workload.

Runs COMMAND (with {endpoint} replaced by the URL of a recording proxy in front of --upstream, a llama-server),
records every /v1/completions request the agent makes, then asks both engines for the greedy continuation of
each recorded prompt of token ids: llama-server's /completion with return_tokens, and `agentrt generate
--tokens ... --no-bos --json` on --model. Prints, for every prompt, where the two sequences first differ (if
they do), and the totals. Prompts sent as text are tokenized by both (llama-server's /tokenize) and compared.

  /usr/bin/python3 tests/server/remote/compare_tokens.py --upstream http://127.0.0.1:8080 \\
      --agentrt build/bin/agentrt --model models/demo -- \\
      examples/math/run.sh --endpoint {endpoint} --tokenizer models/demo
"""
import argparse
import http.server
import json
import subprocess
import sys
import threading
import urllib.request


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="llama-server URL")
    ap.add_argument("--agentrt", required=True)
    ap.add_argument("--model", required=True, help="the same model for agentrt (checkpoint folder)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = [a for a in args.command if a != "--"]
    recorded = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def relay(self, body=None):
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
            req = urllib.request.Request(args.upstream + self.path, data=body, headers=headers,
                                         method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
            except urllib.error.HTTPError as e:
                status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.relay()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.endswith("/v1/completions"):
                recorded.append(json.loads(body))
            self.relay(body)

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
    run = subprocess.run([c.replace("{endpoint}", endpoint) for c in command], capture_output=True, text=True)
    proxy.shutdown()
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "(no output)")
    if run.stderr.strip():
        print(run.stderr.strip())

    # Prompts sent as text: does the server's tokenizer make of them what ours does?
    texts = [r["prompt"] for r in recorded if isinstance(r.get("prompt"), str)]
    tokenized_alike = 0
    for text in texts:
        theirs = post_json(args.upstream + "/tokenize", {"content": text, "add_special": True})["tokens"]
        ours = json.loads(subprocess.run(
            [args.agentrt, "generate", "--model", args.model, "--prompt", text, "--max-tokens", "0", "--json"],
            capture_output=True, text=True, check=True).stdout)["prompt_ids"]
        tokenized_alike += theirs == ours
    if texts:
        print(f"{tokenized_alike}/{len(texts)} text prompts tokenized by the server exactly as agentrt does")

    same = total_tokens = matching_tokens = 0
    prompts = [r for r in recorded if isinstance(r.get("prompt"), list)]
    print(f"{len(recorded)} requests recorded, {len(prompts)} with token-id prompts")
    for n, req in enumerate(prompts, 1):
        ids, limit = req["prompt"], req.get("max_tokens", 256)
        theirs = post_json(args.upstream + "/completion", {
            "prompt": ids, "n_predict": limit, "temperature": 0, "return_tokens": True, "cache_prompt": False,
            "preserved_tokens": req.get("preserved_tokens", [])})["tokens"]
        ours = json.loads(subprocess.run(
            [args.agentrt, "generate", "--model", args.model, "--tokens", ",".join(map(str, ids)), "--no-bos",
             "--max-tokens", str(limit), "--threads", str(args.threads), "--json"],
            capture_output=True, text=True, check=True).stdout)["ids"]
        # One of them may list the end-of-turn token it stopped at and the other not: that is no difference.
        if len(theirs) == len(ours) + 1 and theirs[:-1] == ours:
            theirs = theirs[:-1]
        if len(ours) == len(theirs) + 1 and ours[:-1] == theirs:
            ours = ours[:-1]
        first_diff = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        if first_diff is None and len(ours) != len(theirs):
            first_diff = min(len(ours), len(theirs))
        total_tokens += max(len(ours), len(theirs))
        matching_tokens += first_diff if first_diff is not None else len(ours)
        if first_diff is None:
            same += 1
            verdict = "identical"
        else:
            verdict = f"first difference at token {first_diff}: agentrt {ours[first_diff:first_diff + 3]}, " \
                      f"llama-server {theirs[first_diff:first_diff + 3]}"
        print(f"  prompt {n:2d}: {len(ids):4d} prompt tokens, {len(ours):3d}/{len(theirs):3d} generated: {verdict}")
    print(f"{same}/{len(prompts)} continuations identical token for token; "
          f"{matching_tokens}/{total_tokens} tokens before the first difference")
    sys.exit(0 if same == len(prompts) and tokenized_alike == len(texts) else 1)


if __name__ == "__main__":
    main()
