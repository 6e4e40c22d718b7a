#!/usr/bin/env python3
"""A steady mixed load over HTTP for `make bench`: links into one growing tree, downline reads,
connection codes, DeSo sign-ups (begin) and their credits (callback), at a fixed rate.

  soak.py <api> <users.json> <seconds> <rate per s> <report.json> <pid of cargo lambda watch>

Open loop: a request leaves every 1/rate s whatever the answers do, at most 8 in flight.
Prints errors (any answer not 2xx), p50/p99 latency of each minute and the first vs the last
minute, and the RSS (VmRSS) of each function process (`<target dir>/debug/<function>`) one minute in
and at the end. Every function answers once before the clock starts. Exits 1 on any error, or when a function's RSS grew by more than a quarter.
"""
import json
import os
import sys
import threading
import time
import urllib.request

# The debug binaries of the stack (cargo's target directory, from scripts/target.sh).
BIN = os.path.realpath(os.environ.get("BIN", "target/debug"))
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from burst import call  # noqa: E402

FUNCTIONS = ("add-connection", "get-user-connections", "get-connection-codes", "jumio-begin",
             "admin-jumio-callback", "aggregate-counts")


def ancestors(pid):
    seen = []
    while pid not in ("0", "1") and len(seen) < 20:
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            break
        pid = stat.rsplit(")", 1)[1].split()[1]
        seen.append(pid)
    return seen


def rss_by_process(stack_pid):
    """{pid: (function, VmRSS KiB)} of the stack's function processes: a process's growth is
    what a leak would show."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or stack_pid not in ancestors(pid):
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        name = os.path.basename(exe)
        if not exe.startswith(BIN + "/") or name not in FUNCTIONS:
            continue
        kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
        out[pid] = (name, kb)
    return out


def soak_code(api, admin):
    """A code of the admin's without a cap, so that every sign-up of the soak counts."""
    got = urllib_json("POST", f"{api}/api/v0/admin/create-referral-hash",
                      {"AdminPublicKey": admin["key"], "JWT": admin["jwt"],
                       "UserPublicKeyBase58Check": admin["key"], "RefereeAmountUSDCents": 100,
                       "ReferrerAmountUSDCents": 50, "MaxReferrals": 0})
    return got["ReferralInfoResponse"]["Info"]["ReferralHashBase58"]


def urllib_json(method, url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def plan(api, creds, code):
    """An endless cycle of requests; each user begins once, then is credited once."""
    admin = creds["admin"]
    users = creds["users"]
    n = 0
    while True:
        tag = f"s{n}"
        parent = f"root{n % 50}@soak.io" if n < 500 else f"s{(n * 7919) % n}@soak.io"
        yield ("link", "POST", f"{api}/networks/demo/connections/default",
               {"user": f"{tag}@soak.io", "connection": parent}, True)
        yield ("read", "GET",
               f"{api}/networks/demo/connections/default/users/root{n % 50}%40soak.io?limit=20",
               None, True)
        yield ("codes", "GET",
               f"{api}/networks/demo/connections/default/users/{tag}%40soak.io/codes", None, True)
        if n < len(users):
            user = users[n]
            yield ("begin", "POST", f"{api}/api/v0/jumio-begin",
                   {"PublicKey": user["key"], "JWT": user["jwt"],
                    "ReferralHashBase58": code}, False)
        # Credited ten cycles after the begin: the begin has surely landed by then.
        if 10 <= n < len(users) + 10:
            user = users[n - 10]
            yield ("callback", "POST", f"{api}/api/v0/admin/jumio-callback",
                   {"AdminPublicKey": admin["key"], "JWT": admin["jwt"],
                    "PublicKeyBase58Check": user["key"], "Username": "", "CountryAlpha3": "NGA"},
                   False)
        n += 1


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")


def main():
    api, creds_file, seconds, rate, report = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
        float(sys.argv[4]), sys.argv[5]
    stack_pid = sys.argv[6]
    creds = json.load(open(creds_file))
    code = soak_code(api, creds["admin"])
    # Every function started before the clock: a cold start is not drift.
    for req in [("warm", "GET", f"{api}/networks/demo/connections/default/users/w%40soak.io/codes",
                 None, True),
                ("warm", "GET", f"{api}/networks/demo/connections/default/users/w%40soak.io",
                 None, True),
                ("warm", "POST", f"{api}/networks/demo/connections/default",
                 {"user": "w@soak.io", "connection": "root0@soak.io"}, True),
                ("warm", "POST", f"{api}/api/v0/jumio-begin", {"PublicKey": "", "JWT": ""}, False),
                ("warm", "POST", f"{api}/api/v0/admin/jumio-callback", {}, False)]:
        call(*req)
    results = []
    lock = threading.Lock()
    slots = threading.Semaphore(8)
    rss = {}
    start = time.monotonic()

    def run(req):
        sent = time.monotonic() - start
        got = call(*req)
        got["at"] = sent
        with lock:
            results.append(got)
        slots.release()

    with ThreadPoolExecutor(8) as pool:
        for i, req in enumerate(plan(api, creds, code)):
            due = start + i / rate
            if due - start >= seconds:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            if "start" not in rss and time.monotonic() - start >= 60:
                rss["start"] = rss_by_process(stack_pid)
            slots.acquire()
            pool.submit(run, req)
    rss["end"] = rss_by_process(stack_pid)

    errors = [r for r in results if not 200 <= r["status"] < 300]
    minutes = {}
    for r in results:
        minutes.setdefault(int(r["at"] // 60), []).append(r["secs"])
    first, last = min(minutes), max(minutes)
    print(f"soak: {len(results)} requests in {seconds:.0f} s at {rate:.0f}/s; errors: {len(errors)}")
    for m in sorted(minutes):
        print(f"  minute {m + 1}: {len(minutes[m])} answers, p50 {pct(minutes[m], .5):.1f} ms, "
              f"p99 {pct(minutes[m], .99):.1f} ms")
    p50 = pct(minutes[last], .5) / pct(minutes[first], .5)
    p99 = pct(minutes[last], .99) / pct(minutes[first], .99)
    print(f"soak: last minute vs first: p50 x{p50:.2f}, p99 x{p99:.2f}")
    grew = []
    per_function = {}
    for pid, (name, a) in rss.get("start", {}).items():
        b = rss["end"].get(pid, (name, None))[1]
        if b is None:
            continue
        per_function.setdefault(name, []).append((a, b))
        if b > a * 1.25:
            grew.append(f"{name} (pid {pid})")
    for name, pairs in sorted(per_function.items()):
        a = sum(p[0] for p in pairs) / len(pairs)
        b = sum(p[1] for p in pairs) / len(pairs)
        most = max(p[1] - p[0] for p in pairs)
        print(f"  RSS {name}: {len(pairs)} processes, mean {a / 1024:.1f} MiB after a minute, "
              f"{b / 1024:.1f} MiB at the end (x{b / a:.3f}; most any process grew: {most} KiB)")
    for e in errors[:5]:
        print("  error:", json.dumps(e))
    json.dump({"results": results, "rss": rss}, open(report, "w"))
    if grew:
        print("soak: RSS grew for", ", ".join(grew))
    sys.exit(1 if errors or grew else 0)


if __name__ == "__main__":
    main()
