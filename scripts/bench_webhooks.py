"""Webhook delivery under steady load, over HTTP: links at a steady rate, each telling a
connection.created to a receiver on 127.0.0.1. Prints lag percentiles, the rate delivered
against the rate of changes, and DynamoDB calls per delivered message (from the conflict
proxy's per-operation counts, less a baseline phase without the webhook). Never passes or
fails on time.

    bench_webhooks.py <API> <key> <proxy base URL> <rate/s> <seconds> <baseline seconds>
"""

import http.server
import json
import sys
import threading
import time
import urllib.request

API, KEY, PROXY = sys.argv[1], sys.argv[2], sys.argv[3]
RATE, SECS, BASE = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
arrived = {}  # user -> first arrival time
FAILED = __import__("collections").Counter()  # links that got no 2xx, by error
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        now = time.time()
        try:
            user = json.loads(raw)["data"]["user"]
        except (ValueError, KeyError, TypeError):
            user = None
        with lock:
            if user and user not in arrived:
                arrived[user] = now
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, body=None):
    req = urllib.request.Request(
        API + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return r.status, json.loads(text) if text else None


def calls():
    with urllib.request.urlopen(PROXY + "/__proxy/stats", timeout=10) as r:
        return sum(json.load(r).get("calls", {}).values())


def load(tag, secs):
    """Links at RATE a second for `secs`: {user: time its 201 came back}; failures counted."""
    done, threads = {}, []

    def one(i):
        user = f"{tag}{i}@bench.io"
        try:
            s, _ = call("POST", "/networks/demo/connections/default",
                        {"user": user, "connection": f"{tag}-top{i % 50}@bench.io"})
            if s in (200, 201):
                with lock:
                    done[user] = time.time()
        except OSError as e:
            with lock:
                FAILED[type(e).__name__ + str(getattr(e, "code", ""))] += 1

    start, i = time.time(), 0
    while time.time() - start < secs:
        due = start + i / RATE
        if due > time.time():
            time.sleep(due - time.time())
        t = threading.Thread(target=one, args=(i,))
        t.start()
        threads.append(t)
        i += 1
    for t in threads:
        t.join()
    return done, start


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Made first, and off for the baseline: every function it needs is started before the load.
    s, v = call("POST", "/networks/demo/webhooks", {
        "url": f"http://127.0.0.1:{server.server_address[1]}/hook", "events": ["connection.created"]})
    assert s == 201, v
    hook = f"/networks/demo/webhooks/{v['webhook']['webhook_id']}"
    s, v = call("PATCH", hook, {"active": False})
    assert s == 200, v
    c0 = calls()
    base, _ = load("base", BASE)
    time.sleep(5)
    c1 = calls()
    s, v = call("PATCH", hook, {"active": True})
    assert s == 200, v
    c2 = calls()
    changed, start = load("hook", SECS)
    end = start + SECS
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            if all(u in arrived for u in changed):
                break
        time.sleep(0.5)
    time.sleep(5)
    c3 = calls()
    with lock:
        lags = [arrived[u] - t for u, t in changed.items() if u in arrived]
        late = [u for u in changed if u not in arrived]
        half = start + SECS / 2
        # the second half of the window: what arrived in it against what changed in it
        sent_half = sum(1 for t in changed.values() if half <= t < end)
        got_half = sum(1 for t in arrived.values() if half <= t < end)
    per_base = (c1 - c0) / max(1, len(base))
    extra = (c3 - c2) - per_base * len(changed)
    print(f"webhooks bench: {len(changed)} changes at {RATE:g}/s for {SECS:g} s; "
          f"{len(lags)} delivered, {len(late)} not within 60 s after; links refused: {dict(FAILED)}")
    print(f"| lag p50 | lag p99 | lag max | delivered / changed (second half of the window) "
          f"| DynamoDB calls per change, no webhook | extra calls per delivered message |")
    print(f"| {pct(lags, 50):.2f} s | {pct(lags, 99):.2f} s | {max(lags, default=float('nan')):.2f} s "
          f"| {got_half / max(1, sent_half):.3f} | {per_base:.1f} | {extra / max(1, len(lags)):.2f} |")


main()
