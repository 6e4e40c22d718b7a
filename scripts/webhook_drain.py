"""The fault test's webhook account: waits until the webhook has no pending message, then
holds what the sink received against the delivery log.

    webhook_drain.py <API base URL> <key> <webhook id> <sink file> [timeout s]

Fails if messages stay pending, if a delivered message never reached the sink, or if the
sink got a message that did not verify.
"""

import json
import sys
import time
import urllib.request

API, KEY, HOOK, SINK = sys.argv[1:5]
LIMIT = float(sys.argv[5]) if len(sys.argv) > 5 else 180


def deliveries():
    out, cursor = [], None
    while True:
        q = "limit=100" + (f"&cursor={cursor}" if cursor else "")
        req = urllib.request.Request(
            f"{API}/networks/demo/webhooks/{HOOK}/deliveries?{q}",
            headers={"authorization": f"Bearer {KEY}"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            page = json.load(r)
        out += page["deliveries"]
        cursor = page.get("next_cursor")
        if not cursor:
            return out


def main():
    end = time.time() + LIMIT
    while True:
        try:
            ds = deliveries()
        except OSError as e:
            print(f"webhook drain: {e}; again")
            time.sleep(2)
            continue
        pending = [d for d in ds if d["status"] == "pending"]
        if not pending or time.time() > end:
            break
        time.sleep(2)
    with open(SINK) as f:
        sink = [json.loads(line) for line in f if line.strip()]
    got = {s["id"] for s in sink if s["verified"]}
    unverified = [s for s in sink if not s["verified"]]
    delivered = [d["message_id"] for d in ds if d["status"] == "delivered"]
    missing = [m for m in delivered if m not in got]
    failed = [d for d in ds if d["status"] == "failed"]
    print(
        f"webhook drain: {len(ds)} messages, {len(delivered)} delivered, {len(pending)} pending, "
        f"{len(failed)} failed; the sink verified {len(got)} distinct ids of {len(sink)} requests"
    )
    problems = []
    if pending:
        problems.append(f"{len(pending)} still pending")
    if failed:
        problems.append(f"{len(failed)} failed")
    if missing:
        problems.append(f"delivered but not at the sink: {missing[:5]}")
    if unverified:
        problems.append(f"did not verify: {unverified[:2]}")
    for p in problems:
        print("webhook drain FAIL:", p)
    sys.exit(1 if problems else 0)


main()
