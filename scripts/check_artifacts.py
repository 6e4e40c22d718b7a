"""Each function artifact on its sample event: argv[1] the stand-in's base URL (local-gateway,
whose Invoke API runs the artifacts), argv[2] the events folder. A route's answer must be 2xx
and carry the top-level fields of its route's 2xx example in openapi.yaml, so an artifact
holding another function's binary fails; a stream consumer must apply its records, and a
scheduled function report what it covered."""
import json
import pathlib
import sys
import urllib.request

import yaml

base, events = sys.argv[1], pathlib.Path(sys.argv[2])
spec = yaml.safe_load(open("openapi.yaml"))


def example(method, path, status):
    responses = spec["paths"][path][method.lower()]["responses"]
    ordered = [str(status)] + [c for c in responses if c.startswith("2")]
    for code in ordered:
        for media, body in responses.get(code, {}).get("content", {}).items():
            if "example" in body:
                return media, body["example"]
    return None, None


fails = 0
for ev in sorted(events.glob("*.json")):
    fn = ev.stem
    event = json.loads(ev.read_text())
    req = urllib.request.Request(f"{base}/2015-03-31/functions/{fn}/invocations",
                                 data=ev.read_bytes(), method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        failed = r.headers.get("x-amz-function-error")
        out = json.loads(r.read() or b"null")
    if "routeKey" not in event:
        # A stream consumer applies its records (no failures named); a scheduled function
        # reports what it covered: the repair its window, the webhook sender its attempts,
        # with no store errors.
        want = {"batchItemFailures": []} if "Records" in event else None
        ok = not failed and isinstance(out, dict) and "errorType" not in out and (
            out == want if want is not None
            else ("through_ms" in out or "attempts" in out) and out.get("errors", 0) == 0)
        print(f"check-artifacts: {fn}: {'ok' if ok else 'FAIL ' + json.dumps(out)[:300]}")
        fails += not ok
        continue
    method, path = event["routeKey"].split(" ", 1)
    status = out.get("statusCode", 0) if isinstance(out, dict) else 0
    media, want = example(method, path, status)
    why = ""
    if failed or not 200 <= status < 300:
        why = f"status {status}"
    elif isinstance(want, dict):
        got = json.loads(out.get("body") or "null")
        missing = set(want) - set(got if isinstance(got, dict) else {})
        if missing:
            why = f"fields {sorted(missing)} of the {path} example missing"
    elif media:
        ctype = {k.lower(): v for k, v in (out.get("headers") or {}).items()}.get("content-type", "")
        if not ctype.startswith(media):
            why = f"content-type {ctype!r}, want {media}"
    print(f"check-artifacts: {fn}: {'ok ' + str(status) if not why else 'FAIL ' + why}")
    fails += bool(why)
sys.exit(1 if fails else 0)
