#!/usr/bin/python3
"""Load test of `agentrt serve`: C concurrent streaming clients, each sending R chat requests one after another.

Reports failures, time to first token (first non-empty content delta) at p50/p99, request latency, and
throughput (requests/s and streamed chunks/s). By default it starts its own server on the scripted backend
(replies generated here, one per request), or with --model-dir on a checkpoint run by the local engine; --base-url
points it at a running server instead.

  /usr/bin/python3 tests/server/load/load_test.py --agentrt build/bin/agentrt            # 64 x 20, scripted
  agentrt make-model --preset tiny --out /tmp/tiny &&
  /usr/bin/python3 tests/server/load/load_test.py --agentrt build/bin/agentrt --model-dir /tmp/tiny --max-tokens 16 --engine-threads 1
  /usr/bin/python3 tests/server/load/load_test.py --base-url http://127.0.0.1:8000 --model NAME
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def one_request(host, port, body, api_key):
    """Sends one streaming chat request; returns (ttft_s, total_s, chunks, text) or raises."""
    conn = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    res = conn.getresponse()
    if res.status != 200:
        raise RuntimeError("HTTP %d: %s" % (res.status, res.read()[:200]))
    ttft = None
    chunks = 0
    text = []
    done = False
    buf = b""
    while True:
        data = res.read1(65536)
        if not data:
            break
        buf += data
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            if not event.startswith(b"data: "):
                continue
            payload = event[6:]
            if payload == b"[DONE]":
                done = True
                continue
            chunk = json.loads(payload)
            if "error" in chunk:
                raise RuntimeError("stream error: %s" % chunk["error"]["message"])
            for choice in chunk.get("choices", []):
                piece = choice.get("delta", {}).get("content")
                if piece:
                    if ttft is None:
                        ttft = time.perf_counter() - t0
                    chunks += 1
                    text.append(piece)
    conn.close()
    if not done:
        raise RuntimeError("stream ended without [DONE]")
    if ttft is None:
        raise RuntimeError("no content streamed")
    return ttft, time.perf_counter() - t0, chunks, "".join(text)


def start_server(agentrt, replies, model_dir, engine_threads, workdir, threads, extra_args):
    if model_dir:
        backend = ["--model", model_dir, "--threads", str(engine_threads)] + extra_args
    else:
        script = os.path.join(workdir, "replies.json")
        with open(script, "w") as f:
            json.dump(replies, f)
        backend = ["--script", script]
    proc = subprocess.Popen([agentrt, "serve"] + backend + ["--port", "0", "--data-dir",
                             os.path.join(workdir, "data"), "--http-threads", str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit("the server did not start: " + line + proc.stdout.read())
    return proc, m.group(1), int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=20, help="requests per client")
    ap.add_argument("--agentrt", default="build/bin/agentrt", help="the agentrt binary (own server mode)")
    ap.add_argument("--base-url", help="a running server instead of starting one")
    ap.add_argument("--model-dir", help="own server on this checkpoint (local engine) instead of scripted replies")
    ap.add_argument("--engine-threads", type=int, default=0, help="CPU threads of the local engine (0: all)")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="extra argument of `agentrt serve` on --model-dir (repeat; e.g. --serve-arg=--max-running=1)")
    ap.add_argument("--model", default="agentrt")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--reply-words", type=int, default=48, help="words per scripted reply (own server mode)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()

    total = args.clients * args.requests
    proc = None
    tmp = None
    expected = None
    if args.base_url:
        u = urllib.parse.urlparse(args.base_url)
        host, port = u.hostname, u.port or 80
    else:
        tmp = tempfile.TemporaryDirectory(prefix="agentrt-load-")
        replies = []
        if not args.model_dir:
            expected = " ".join("word%d" % i for i in range(args.reply_words))
            replies = [expected] * total
        proc, host, port = start_server(args.agentrt, replies, args.model_dir, args.engine_threads, tmp.name, args.clients + 16,
                                        args.serve_arg)

    body = json.dumps({"model": args.model, "stream": True, "max_tokens": args.max_tokens,
                       "messages": [{"role": "user", "content": "Tell me something."}]})
    ttfts, latencies, failures = [], [], []
    chunks_total = [0]
    lock = threading.Lock()

    def client():
        for _ in range(args.requests):
            try:
                ttft, latency, chunks, text = one_request(host, port, body, args.api_key)
                if expected is not None and text != expected:
                    raise RuntimeError("wrong text streamed")
                with lock:
                    ttfts.append(ttft)
                    latencies.append(latency)
                    chunks_total[0] += chunks
            except Exception as e:  # every failure is counted and reported, none ends the test
                with lock:
                    failures.append(str(e))

    t0 = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(args.clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)

    summary = {
        "clients": args.clients, "requests_per_client": args.requests, "requests": total,
        "succeeded": len(latencies), "failures": len(failures),
        "ttft_p50_ms": percentile(ttfts, 0.5) * 1e3, "ttft_p99_ms": percentile(ttfts, 0.99) * 1e3,
        "latency_p50_ms": percentile(latencies, 0.5) * 1e3, "latency_p99_ms": percentile(latencies, 0.99) * 1e3,
        "wall_s": wall, "requests_per_s": len(latencies) / wall, "chunks_per_s": chunks_total[0] / wall,
        "backend": args.base_url or ("local engine on %s (own server)" % args.model_dir if args.model_dir
                                     else "scripted (own server)"),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print("%(requests)d requests (%(clients)d clients x %(requests_per_client)d), backend: %(backend)s" % summary)
        print("  failures: %(failures)d" % summary)
        print("  time to first token: p50 %(ttft_p50_ms).2f ms, p99 %(ttft_p99_ms).2f ms" % summary)
        print("  request latency:     p50 %(latency_p50_ms).2f ms, p99 %(latency_p99_ms).2f ms" % summary)
        print("  throughput: %(requests_per_s).1f requests/s, %(chunks_per_s).0f streamed chunks/s "
              "(%(wall_s).2f s wall)" % summary)
    for f in failures[:5]:
        print("  failure:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
