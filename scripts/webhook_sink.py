"""A webhook receiver for the fault test: every message it gets is verified with the
`standardwebhooks` package and appended to a file as a JSON line (its id and body); one that
does not verify is recorded as such.

    webhook_sink.py <port> <secret file> <out file>
"""

import http.server
import json
import sys
import threading

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, SECRET_FILE, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            with open(SECRET_FILE) as f:
                body = Webhook(f.read().strip()).verify(raw, headers)
            line = {"id": headers.get("webhook-id"), "body": body, "verified": True}
        except (WebhookVerificationError, OSError, ValueError) as e:
            line = {"id": headers.get("webhook-id"), "error": str(e), "verified": False}
        with lock, open(OUT, "a") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Sink).serve_forever()
