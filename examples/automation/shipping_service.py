"""A tiny local shipping-quote service for the automation example (and the demo model's training data):
GET /quote?grams=N answers {"grams": N, "price": P, "days": D} as JSON. Binds 127.0.0.1 only.

    /usr/bin/python3 examples/automation/shipping_service.py [--port N ...]
Prints one line per port asked for: the bound port (port 0, the default, asks the system for a free one), or "-"
for a port that cannot be bound (reported on stderr and skipped); then serves until killed."""
import argparse
import http.server
import json
import sys
import threading
import urllib.parse


def quote(grams):
    """Price in dollars: a base fee plus a step per started 250 grams; days grow with the weight."""
    return {"grams": grams, "price": 4 + 3 * (grams // 250 + 1), "days": 2 + grams // 2000}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        grams = urllib.parse.parse_qs(url.query).get("grams", [""])[0]
        if url.path != "/quote":
            self.reply(404, {"error": "unknown path; use /quote?grams=N"})
        elif not grams.isdigit() or int(grams) <= 0:
            self.reply(400, {"error": "grams must be a positive whole number"})
        else:
            self.reply(200, quote(int(grams)))

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, action="append", help="port to listen on (repeatable; 0: a free one)")
    args = ap.parse_args()
    servers = []
    for port in args.port or [0]:
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as e:
            # One line per port asked for, so a reader waiting for each port's line never hangs.
            print("-", flush=True)
            print(f"shipping_service: cannot listen on port {port}: {e}", file=sys.stderr)
            continue
        servers.append(server)
        print(server.server_address[1], flush=True)
    if not servers:
        sys.exit(1)
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
