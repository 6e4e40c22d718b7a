"""Webhooks over real HTTP, checked by an independent verifier: a receiver on 127.0.0.1
verifies every message with the `standardwebhooks` package (not Refnet's code), while the
local stack (stream poller, fanout, sender) delivers what committed changes tell.

    webhooks_e2e.py <API base URL> <network API key>

Fails (exit 1) if a message does not verify, if a change's message does not arrive within
the contract's 10 s, or if a tampered message verifies.
"""

import http.server
import json
import sys
import threading
import time
import urllib.error
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

API, KEY = sys.argv[1], sys.argv[2]
got = []  # (arrival time, headers, raw body)
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            got.append((time.time(), {k.lower(): v for k, v in self.headers.items()}, raw))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, path, body=None):
    req = urllib.request.Request(
        API + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_for(pred, limit):
    end = time.time() + limit
    while time.time() < end:
        with lock:
            found = [g for g in got if pred(g)]
        if found:
            return found[0]
        time.sleep(0.1)
    return None


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    s, v = call("POST", "/networks/demo/webhooks", {"url": url, "events": ["connection.created"]})
    assert s == 201, (s, v)
    hook = v["webhook"]
    verifier = Webhook(hook["secret"])
    failures = []
    try:
        user = f"wh{time.time_ns()}@example.com"
        t0 = time.time()
        s, v = call("POST", "/networks/demo/connections/default",
                    {"user": user, "connection": f"ref-{user}"})
        assert s == 201, (s, v)

        def is_link(g):
            try:
                return json.loads(g[2])["data"]["user"] == user
            except (KeyError, ValueError, TypeError):
                return False

        m = wait_for(is_link, 10)
        if m is None:
            failures.append("connection.created did not arrive within 10 s")
        else:
            print(f"webhooks e2e: connection.created arrived {m[0] - t0:.2f} s after its change")
        s, v = call("POST", f"/networks/demo/webhooks/{hook['webhook_id']}/test")
        assert s == 202, (s, v)
        test_id = v["message_id"]
        if wait_for(lambda g: g[1].get("webhook-id") == test_id, 10) is None:
            failures.append("webhook.test did not arrive within 10 s")
        with lock:
            received = list(got)
        for _, headers, raw in received:
            try:
                body = verifier.verify(raw, headers)
            except WebhookVerificationError as e:
                failures.append(f"a message does not verify: {e}: {raw[:200]!r}")
                continue
            if body.get("type") not in ("connection.created", "webhook.test"):
                failures.append(f"a type it did not subscribe to: {body.get('type')}")
        if received:
            _, headers, raw = received[0]
            try:
                verifier.verify(raw.replace(b"}", b" }", 1), headers)
                failures.append("a tampered message verified")
            except WebhookVerificationError:
                pass
        print(f"webhooks e2e: {len(received)} messages verified by standardwebhooks")
    finally:
        call("DELETE", f"/networks/demo/webhooks/{hook['webhook_id']}")
        server.shutdown()
    for f in failures:
        print("webhooks e2e FAIL:", f)
    sys.exit(1 if failures else 0)


main()
