#!/usr/bin/env bash
# A few requests over real HTTP through `cargo lambda watch` and its router, as a user sends
# them; every sample event through `cargo lambda invoke`; the fuzzer through local-gateway. Needs AWS_ENDPOINT_URL_DYNAMODB (test.sh starts DynamoDB Local).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh

PORT=${SMOKE_PORT:-9100}
# The demo key and admin the sample events carry (seed a1; local endpoints only).
KEY=refnet-local-demo-key
export TABLE_NAME=refnet-smoke DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default
# Each request logs one "request done" line: fuzz.sh counts them.
export RUST_LOG=warn,shared::http=info
export REFNET_DEMO_API_KEY=$KEY
# The webhook sender runs 5 s at a time here, so an invocation of its sample ends soon.
export WEBHOOK_SWEEP_SECS=5
export SUPER_ADMIN_PUBLIC_KEYS=BC1YLiv5upLZa6CeDbqey6uj1sTLia94HTKJrB4b16AhEyWU39sEv7u
cargo build -q --workspace --bins
# shellcheck source=scripts/stack.sh
. scripts/stack.sh
watch_pid="" poller_pid="" gateway_pid=""
stop_all() {
  local pids=($watch_pid $poller_pid $gateway_pid)
  [ ${#pids[@]} = 0 ] || { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
}
trap stop_all EXIT
start_stack .tools/smoke

fails=0
check() { # name, expected status, curl args...
  local name=$1 want=$2
  shift 2
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$@")
  if [ "$got" = "$want" ]; then echo "smoke ok: $name ($got)"; else echo "smoke FAIL: $name: $got, want $want"; fails=$((fails + 1)); fi
}
A="Authorization: Bearer $KEY"
u="smoke$(date +%s%N)"
check "list programs" 200 -H "$A" "$API/networks/demo/connections"
check "no key" 401 "$API/networks/demo/connections"
check "add connection" 201 -H "$A" -X POST "$API/networks/demo/connections/default" -d "{\"user\":\"$u@x.io\",\"connection\":\"r$u@x.io\"}"
check "replay" 200 -H "$A" -X POST "$API/networks/demo/connections/default" -d "{\"user\":\"$u@x.io\",\"connection\":\"r$u@x.io\"}"
check "user connections" 200 -H "$A" "$API/networks/demo/connections/default/users/r$u%40x.io?level=1"
check "connection codes" 200 -H "$A" "$API/networks/demo/connections/default/users/r$u%40x.io/codes"
check "user status" 201 -H "$A" -X POST "$API/networks/demo/user_status" -d "{\"user\":\"n$u@x.io\",\"status_change\":\"create_user\"}"
check "upsert program" 201 -H "$A" -X PUT "$API/networks/demo/connections/p$u" -d '{}'
check "change referrer" 200 -H "$A" -X PUT "$API/networks/demo/connections/default/users/$u%40x.io/referrer" -d "{\"connection\":\"q$u@x.io\"}"
check "remove referrer" 200 -H "$A" -X DELETE "$API/networks/demo/connections/default/users/$u%40x.io/referrer"
check "not connected" 404 -H "$A" -X DELETE "$API/networks/demo/connections/default/users/$u%40x.io/referrer"
check "unknown job" 404 -H "$A" "$API/networks/demo/jobs/1111111111111111"
check "exchange rate" 200 "$API/api/v0/admin/get-usd-cents-to-deso-reserve-exchange-rate"
check "unknown hash" 404 -X POST "$API/api/v0/get-referral-info-for-referral-hash" -d '{"ReferralHash":"11111111"}'
check "bad JWT" 401 -X POST "$API/api/v0/get-referral-info-for-user" -d "{\"PublicKeyBase58Check\":\"$(cargo run -q -p refnet-admin -- deso-jwt "$(printf 'c3%.0s' $(seq 32))" | sed 's/.*"PublicKeyBase58Check":"\([^"]*\)".*/\1/')\",\"JWT\":\"a.b.c\"}"
# A browser on another origin: the preflight is answered, and answers carry the CORS headers.
pre=$(curl -s -o /dev/null -D - -X OPTIONS -H "Origin: https://app.example" \
  -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: content-type" \
  "$API/api/v0/jumio-begin" | tr -d '\r')
if echo "$pre" | grep -qi '^access-control-allow-origin:'; then echo "smoke ok: CORS preflight"; else echo "smoke FAIL: CORS preflight: $pre"; fails=$((fails + 1)); fi

# A create retried with its Idempotency-Key: the first answer again, marked replayed; the
# same key on another body: 422.
codes="$API/networks/demo/connections/default/users/i$u%40x.io/codes"
first=$(curl -s -D .tools/smoke-idem-1 -H "$A" -H "Idempotency-Key: k$u" -X POST "$codes" -d '{}')
again=$(curl -s -D .tools/smoke-idem-2 -H "$A" -H "Idempotency-Key: k$u" -X POST "$codes" -d '{}')
if grep -qi '^idempotent-replayed: true' .tools/smoke-idem-2 && [ "$first" = "$again" ] \
  && ! grep -qi '^idempotent-replayed' .tools/smoke-idem-1 && echo "$first" | grep -q '"code":{'; then
  echo "smoke ok: idempotency key replayed"
else
  echo "smoke FAIL: idempotency key: $first / $again"; fails=$((fails + 1))
fi
check "idempotency key on another body" 422 -H "$A" -H "Idempotency-Key: k$u" -X POST "$codes" -d '{"max_referrals":3}'

# Counts come from the stream: they settle within seconds, over HTTP as on AWS.
check "link to count" 201 -H "$A" -X POST "$API/networks/demo/connections/default" -d "{\"user\":\"c$u@x.io\",\"connection\":\"cr$u@x.io\"}"
settled=""
for _ in $(seq 1 60); do
  body=$(curl -s -H "$A" "$API/networks/demo/connections/default/users/cr$u%40x.io")
  if echo "$body" | grep -q '"downline_counts":{"1":1'; then settled=1; break; fi
  sleep 0.5
done
if [ -n "$settled" ]; then echo "smoke ok: counts settled"; else echo "smoke FAIL: counts did not settle: $body"; fails=$((fails + 1)); fi
# A move too large for one transaction: 202, then the worker (fed by the stream) finishes it.
b="big$u"
{
  for i in $(seq 1 50); do echo "{\"user\":\"k$i$b@x.io\",\"connection\":\"$b@x.io\"}"; done
} | xargs -d '\n' -P 8 -I{} curl -s -o /dev/null -H "$A" -X POST "$API/networks/demo/connections/default" -d {}
{
  for i in $(seq 1 50); do echo "{\"user\":\"g$i$b@x.io\",\"connection\":\"k$i$b@x.io\"}"; done
} | xargs -d '\n' -P 8 -I{} curl -s -o /dev/null -H "$A" -X POST "$API/networks/demo/connections/default" -d {}
loc=$(curl -s -o /dev/null -D - -H "$A" -X PUT "$API/networks/demo/connections/default/users/$b%40x.io/referrer" \
  -d "{\"connection\":\"dest$u@x.io\"}" | tr -d '\r' | sed -n 's/^location: //Ip')
job=""
if [ -n "$loc" ]; then
  for _ in $(seq 1 120); do
    job=$(curl -s -H "$A" "$API$loc")
    echo "$job" | grep -q '"status":"running"' || break
    sleep 0.5
  done
fi
if echo "$job" | grep -q '"status":"done"'; then echo "smoke ok: move job done"; else echo "smoke FAIL: move job: ${loc:-no Location} $job"; fails=$((fails + 1)); fi
# The operator's view: the finished job is out of the running jobs' index.
jobs=$("$BIN"/refnet-admin jobs demo 2>&1 | tail -1)
if [ "$jobs" = "0 running" ]; then echo "smoke ok: refnet-admin jobs"; else echo "smoke FAIL: refnet-admin jobs: $jobs"; fails=$((fails + 1)); fi

# Every sample event through the README's invoke command, its JWTs signed afresh first.
"$BIN"/refnet-admin events >/dev/null
for ev in .tools/events/*.json; do
  name=$(basename "$ev" .json)
  out=$(.venv/bin/cargo-lambda lambda invoke "$name" --invoke-address 127.0.0.1 --invoke-port "$PORT" \
    --data-file "$ev" 2>&1) || true
  code=$(echo "$out" | sed -n 's/^{"statusCode":\([0-9]*\).*/\1/p')
  case "$name:$code:$out" in
    # a stream consumer answers its batch's failures (none), an HTTP function its status
    *::'{"batchItemFailures":[]}' | repair::*'"through_ms"'* | webhook-sender::*'"attempts"'* | *:2[0-9][0-9]:*)
      echo "smoke ok: invoke $name ${code:-done}" ;;
    *) echo "smoke FAIL: invoke $name: $(echo "$out" | head -c 400)"; fails=$((fails + 1)) ;;
  esac
done

# Webhooks from committed changes to a receiver that verifies them with the standardwebhooks
# package, within the contract's 10 s.
if .venv/bin/python scripts/webhooks_e2e.py "$API" "$KEY"; then echo "smoke ok: webhooks"; else
  echo "smoke FAIL: webhooks"; fails=$((fails + 1))
fi

# The admin console in headless Chromium: every view over HTTP, axe-core, markup as text.
if .venv/bin/python scripts/console_e2e.py "$API" "$KEY" .tools/console; then echo "smoke ok: console"; else
  echo "smoke FAIL: console (screenshots in .tools/console)"; fails=$((fails + 1))
fi

# Schemathesis over the whole spec, on the same table and binaries behind local-gateway: the
# HTTP API and Runtime API as AWS speaks them. `cargo lambda watch` acknowledges a function's
# answer before reading it, and under load loses a few large ones (its 500; README).
GW_PORT=$((PORT + 1))
"$BIN"/local-gateway "$GW_PORT" "$BIN" >.tools/smoke-gateway.log 2>&1 &
gateway_pid=$!
# Listening before the fuzzer's first probe, which counts on an answer (its 404 for an unknown path).
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/")" = 000 ] || break
  sleep 0.1
done
if ./scripts/fuzz.sh "http://127.0.0.1:$GW_PORT" .tools/smoke-gateway.log; then echo "smoke ok: fuzz"; else
  echo "smoke FAIL: fuzz (report in .tools/fuzz)"; fails=$((fails + 1))
fi

# Every invariant, over everything the smoke test and the fuzzer wrote, once counts settle.
checked=""
for _ in $(seq 1 20); do
  if "$BIN"/refnet-admin check >.tools/smoke-check.log 2>&1; then checked=1; break; fi
  sleep 1
done
if [ -n "$checked" ]; then echo "smoke ok: refnet-admin check"; else
  echo "smoke FAIL: refnet-admin check"; cat .tools/smoke-check.log; fails=$((fails + 1))
fi
[ "$fails" = 0 ]
