#!/usr/bin/env python3
"""A concurrent burst over HTTP for the fault tests: links into one tree, connection codes,
DeSo sign-ups credited once each, and new referral hashes. Prints a summary and exits 1 when
an answer is not 2xx, 409, or a JSON 503 with Retry-After, or took longer than the limit.

  burst.py <api> <tag> <users.json> <limit s> [--only-503 | --no-5xx]

With BURST_SIGNAL=<file>, the file is created once 20 answers are in (a fault test kills the
store then, mid-burst).

users.json: {"admin": {"key", "jwt"}, "users": [{"key", "jwt"}, ...]} (refnet-admin deso-jwt).
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

API_KEY = "refnet-local-demo-key"
# The client waits past the phase's limit, so a slow answer is measured against the limit
# rather than cut short (the warm-up's cold starts may take most of a minute on a busy machine).
CLIENT_TIMEOUT_S = 30.0


def call(what, method, url, body, bearer):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if bearer:
        req.add_header("authorization", "Bearer " + API_KEY)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT_S) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    except Exception as e:  # a hung or dropped connection is a failure of its own
        return {"what": what, "status": 0, "secs": time.monotonic() - start, "error": str(e)}
    secs = time.monotonic() - start
    try:
        json.loads(raw)
        is_json = True
    except ValueError:
        is_json = False
    got = {
        "what": what,
        "status": status,
        "secs": secs,
        "retry_after": headers.get("retry-after") is not None,
        "json": is_json,
    }
    if status >= 400:
        got["body"] = raw[:200].decode(errors="replace")
    return got


def requests(api, tag, creds):
    admin = creds["admin"]
    out = []
    # BURST_USERS: the first n users only (five requests each).
    users = creds["users"][:int(os.environ.get("BURST_USERS", len(creds["users"])))]
    for i, user in enumerate(users):
        out.append(("link", "POST", f"{api}/networks/demo/connections/default",
                    {"user": f"{tag}u{i}@x.io", "connection": f"{tag}r{i % 6}@x.io"}, True))
        out.append(("codes", "GET",
                    f"{api}/networks/demo/connections/default/users/{tag}c{i}%40x.io/codes",
                    None, True))
        out.append(("begin", "POST", f"{api}/api/v0/jumio-begin",
                    {"PublicKey": user["key"], "JWT": user["jwt"],
                     "ReferralHashBase58": "ReFnetD1"}, False))
        out.append(("credit", "POST", f"{api}/api/v0/admin/jumio-callback",
                    {"AdminPublicKey": admin["key"], "JWT": admin["jwt"],
                     "PublicKeyBase58Check": user["key"], "Username": "",
                     "CountryAlpha3": ""}, False))
        out.append(("hash", "POST", f"{api}/api/v0/admin/create-referral-hash",
                    {"AdminPublicKey": admin["key"], "JWT": admin["jwt"],
                     "UserPublicKeyBase58Check": user["key"], "Username": "",
                     "ReferrerAmountUSDCents": 100, "RefereeAmountUSDCents": 50}, False))
    return out


ANSWERED = [0]
LOCK = threading.Lock()


def counted(r):
    got = call(*r)
    with LOCK:
        ANSWERED[0] += 1
        if ANSWERED[0] == 20 and os.environ.get("BURST_SIGNAL"):
            open(os.environ["BURST_SIGNAL"], "w").close()
    return got


def main():
    api, tag, creds_file, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    global CLIENT_TIMEOUT_S
    CLIENT_TIMEOUT_S = max(limit + 5.0, 10.0)
    mode = sys.argv[5] if len(sys.argv) > 5 else ""
    creds = json.load(open(creds_file))
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(counted, requests(api, tag, creds)))
    bad = []
    for g in got:
        s = g["status"]
        ok = (200 <= s < 300 or s == 409 or (s == 503 and g["retry_after"] and g["json"]))
        ok = ok and g["secs"] <= limit
        if mode == "--only-503":
            ok = ok and s == 503
        if mode == "--no-5xx":
            ok = ok and s < 500
        if not ok:
            bad.append(g)
    count = lambda f: sum(1 for g in got if f(g["status"]))
    print(f"{tag}: {len(got)} answers: {count(lambda s: 200 <= s < 300)} 2xx, "
          f"{count(lambda s: s == 409)} 409, {count(lambda s: s == 503)} 503 with Retry-After; "
          f"slowest {max(g['secs'] for g in got):.2f} s (limit {limit} s)")
    for g in bad[:5]:
        print("  unexpected:", json.dumps(g))
    json.dump(got, open(f".tools/faults/{tag}.json", "w"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
