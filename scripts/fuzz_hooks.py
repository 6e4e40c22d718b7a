"""Schemathesis hooks for scripts/fuzz.sh: values a pattern cannot describe, and credentials.

- `deso-public-key` strings are real base58check keys: no pattern can express the checksum the
  server verifies, so without this every generated key would be a (correctly) refused one.
- A `text/csv` upload is a valid referral CSV (the header, then rows for the demo hash).
- Positive cases (schema-valid ones, which must never get 400) are steered to data that exists,
  choosing by a hash of the case so that a seed reproduces the run:
  - half go to the demo network, the one the bearer key opens; of those, half name the
    `default` program (max_levels 10). `level` is checked against the program's own
    max_levels, so positive downline reads always use `default`, and positive program
    upserts never touch it;
  - a cursor is valid only as the server issued it, so positive cases carry none;
  - half of the DeSo bodies are signed: the key fields become the demo super admin's (admin
    routes) or user b2's (user routes), with a JWT that fuzz.sh minted just before the run;
  - a rule's levels are distinct (a rule between items no schema states), a rule is created
    with its `event` and `levels` (required on create only), and in the demo network it goes
    to `default`, whose max_levels (10) every schema-valid level meets;
  - half of the events in the demo network are bob's, a user it knows;
  - a webhook's URL is a local receiver's form (the rules refuse anything else a schema can
    generate: they resolve its host), a replay's `since` is an hour ago and a new code's
    `expires_at` a day ahead (windows relative to now).
"""

import atexit
import collections
import datetime
import json
import os
import re
import sys
import zlib

import base58
import schemathesis
from hypothesis import strategies as st

MAINNET_PREFIX = bytes([0xCD, 0x14, 0x00])
DEMO_NETWORK = "demo"
DEFAULT_PROGRAM = "default"
DEMO_HASH = "ReFnetD1"
RULE_PUT = "PUT /networks/{network_id}/connections/{program_id}/rules/{rule_id}"
CODE_POST = "POST /networks/{network_id}/connections/{program_id}/users/{user}/codes"
ADMIN = json.loads(os.environ.get("FUZZ_ADMIN", "{}"))
USER = json.loads(os.environ.get("FUZZ_USER", "{}"))
USER_ROUTES = ("/api/v0/get-referral-info-for-user", "/api/v0/jumio-begin")
CSV_HEADER = (
    "ReferralHashBase58,Username,ReferrerPKIDBase58Check,ReferrerAmountUSDCents,"
    "RefereeAmountUSDCents,MaxReferrals,RequiresJumio,NumJumioAttempts,NumJumioSuccesses,"
    "TotalReferrerDeSoNanos,TotalRefereeDeSoNanos,DateCreatedTStampNanos,IsActive\n"
)


@st.composite
def deso_keys(draw):
    parity = draw(st.sampled_from([b"\x02", b"\x03"]))
    body = draw(st.binary(min_size=32, max_size=32))
    return base58.b58encode_check(MAINNET_PREFIX + parity + body).decode()


@st.composite
def referral_csvs(draw):
    rows = []
    owner = ADMIN.get("PublicKeyBase58Check", "")
    for _ in range(draw(st.integers(0, 2))):
        cents = draw(st.tuples(st.integers(0, 100000), st.integers(0, 100000)))
        cap = draw(st.integers(0, 1000))
        jumio = draw(st.booleans())
        rows.append(
            f"{DEMO_HASH},,{owner},{cents[0]},{cents[1]},{cap},{str(jumio).lower()},"
            f"0,0,0,0,1795424903527344840,true\n"
        )
    return (CSV_HEADER + "".join(rows)).encode()


schemathesis.openapi.format("deso-public-key", deso_keys())
schemathesis.openapi.media_type("text/csv", referral_csvs())


def _pick(case, salt):
    text = json.dumps(
        [case.operation.label, case.path_parameters, case.query, case.body, salt],
        sort_keys=True,
        default=str,
    )
    return zlib.crc32(text.encode()) % 2 == 0


def _is_csv(value):
    data = value.encode() if isinstance(value, str) else value
    return isinstance(data, bytes) and data.startswith(CSV_HEADER.encode())


def _sign(case, body):
    if case.operation.path in USER_ROUTES:
        who, fields = USER, ("PublicKeyBase58Check", "PublicKey")
    elif case.operation.path.startswith("/api/v0/admin/"):
        who, fields = ADMIN, ("AdminPublicKey", "UserPublicKeyBase58Check")
    else:
        return
    if not who:
        return
    for field in fields:
        if field in body:
            body[field] = who["PublicKeyBase58Check"]
    body["JWT"] = who["JWT"]


@schemathesis.hook
def map_case(ctx, case):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive:
        _steer(case)
    path = case.path_parameters or {}
    if case.operation.label == "PUT /networks/{network_id}/connections/{program_id}":
        if path.get("program_id") == DEFAULT_PROGRAM:
            path["program_id"] = "fuzzed"
    return case


def _steer(case):
    path = case.path_parameters or {}
    if "network_id" in path and _pick(case, "network"):
        path["network_id"] = DEMO_NETWORK
        if "program_id" in path and _pick(case, "program"):
            path["program_id"] = DEFAULT_PROGRAM
    if case.operation.label == "GET /networks/{network_id}/connections/{program_id}/users/{user}":
        path["program_id"] = DEFAULT_PROGRAM
    if case.operation.label == RULE_PUT:
        if path.get("network_id") == DEMO_NETWORK:
            path["program_id"] = DEFAULT_PROGRAM
        rule = case.body.get("rule") if isinstance(case.body, dict) else None
        if isinstance(rule, dict):
            if not rule.get("event"):
                rule["event"] = "fuzz"
            if not rule.get("levels"):
                rule["levels"] = [{"level": 1, "amount_usd_cents": 1}]
            seen, levels = set(), []
            for level in rule["levels"]:
                if level.get("level") not in seen:
                    seen.add(level.get("level"))
                    levels.append(level)
            rule["levels"] = levels
    if case.operation.label == "POST /networks/{network_id}/events" and isinstance(case.body, dict):
        if path.get("network_id") == DEMO_NETWORK and _pick(case, "user"):
            case.body["user"] = "bob@example.com"
    if case.operation.path.startswith("/networks/{network_id}/webhooks") and isinstance(case.body, dict):
        if "url" in case.body:
            case.body["url"] = "http://127.0.0.1:9/fuzz"
        if case.operation.path.endswith("/replay"):
            hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
            case.body["since"] = hour_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
    if case.operation.label == CODE_POST and isinstance(case.body, dict) and case.body.get("expires_at"):
        in_a_day = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        case.body["expires_at"] = in_a_day.strftime("%Y-%m-%dT%H:%M:%SZ")
    if case.query:
        case.query.pop("cursor", None)
    body = case.body
    if isinstance(body, dict):
        body.pop("Cursor", None)
        # The coverage phase fills a binary part without the text/csv strategy.
        if "file" in body and not _is_csv(body["file"]):
            body["file"] = CSV_HEADER
        if "JWT" in body and _pick(case, "sign"):
            _sign(case, body)


def _declared(case, method):
    return method.lower() in case.operation.schema.raw_schema["paths"].get(case.operation.path, {})


def _resource_id(case):
    """The value of the path's last parameter: the resource itself, not its network."""
    names = re.findall(r"\{([^}]+)\}", case.operation.path)
    return (case.path_parameters or {}).get(names[-1]) if names else None


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@schemathesis.hook
def after_call(ctx, case, response):
    """Remembers the ids a replayed answer names (see filter_failure)."""
    if response.headers.get("idempotent-replayed") == ["true"]:
        try:
            REPLAYED_IDS.update(_strings(json.loads(response.content)))
        except ValueError:
            pass


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """Drops two answers that the contract prescribes and a generic check cannot know:
    - API Gateway's own, given without invoking a function (fuzz.sh shows before the run that
      the function logs no request for it): a method the API does not declare gets 404
      {"message": "Not Found"}, as API Gateway's HTTP API answers a route it lacks (never 405,
      which the fuzzer's unsupported-method check wants). local-gateway answers it as API
      Gateway does.
    - A create replayed under an Idempotency-Key answers what it answered first, even when the
      resource was deleted since (the fuzzer sends one key and body again in a later scenario,
      apart from the one that deleted it). A 404 on an id that only a replayed answer named
      is that.
    """
    method = (response.request.method or "").upper()
    if response.status_code == 404 and not _declared(case, method) and GATEWAY_404 in response.content:
        DROPPED["undeclared method, API Gateway's 404"] += 1
        return False
    if (
        failure.code == "ST302"
        and response.status_code == 404
        and _resource_id(case) in REPLAYED_IDS
    ):
        DROPPED["a replayed create of a resource deleted since"] += 1
        return False
    return True


GATEWAY_404 = b'{"message":"Not Found"}'
DROPPED = collections.Counter()
REPLAYED_IDS = set()


@atexit.register
def _report():
    for what, n in sorted(DROPPED.items()):
        print(f"fuzz: dropped {n} failures: {what}", file=sys.stderr)
