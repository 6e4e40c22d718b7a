#!/usr/bin/env bash
# Schemathesis over every operation of openapi.yaml against a running stack, with every check.
# $1: the stack's base URL; $2: its `cargo lambda watch` log, where the functions log each
# request ("request done", RUST_LOG shared::http=info). Needs the demo seed (its network key
# and super admin). A fixed seed and time budget: a failure reproduces with the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
API=$1
WATCH_LOG=$2
FUZZ_SEED=${FUZZ_SEED:-20261123}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
venv=.tools/schemathesis

# The hooks drop two answers as the emulator's own. Show first that no function runs for them:
# the function's log gains a line for a request it answers, and none for these two.
served() { grep -c '"request done"' "$WATCH_LOG" || true; }
probe() { # want, curl args...
  local want=$1 before got after
  shift
  before=$(served)
  got=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$API/api/v0/get-referral-info-for-referral-hash")
  sleep 1
  after=$(served)
  echo "$got $((after - before))"
}
answered=$(probe 400 -X POST -H 'Content-Type: application/json' --data-binary '{"ReferralHash":"x"}')
not_utf8=$(probe 500 -X POST -H 'Content-Type: application/json' --data-binary $'{"ReferralHash":"\xff\xfe"}')
undeclared=$(probe 404 -X TRACE)
echo "fuzz: a bad hash: status and function log lines '$answered'; a non-UTF-8 body: '$not_utf8'; TRACE: '$undeclared'"
if [ "$answered" != "400 1" ] || [ "$not_utf8" != "500 0" ] || [ "$undeclared" != "404 0" ]; then
  echo "fuzz FAIL: the answers the hooks drop are not the emulator's alone" >&2
  exit 1
fi

# Fresh JWTs: the admin's lives an hour (ADMIN_JWT_MAX_LIFETIME_SECS), longer than the run.
seed() { printf "$1%.0s" $(seq 32); }
FUZZ_ADMIN=$(./target/debug/refnet-admin deso-jwt "$(seed a1)" 3600)
FUZZ_USER=$(./target/debug/refnet-admin deso-jwt "$(seed b2)" 3600)
export FUZZ_ADMIN FUZZ_USER PYTHONPATH=scripts SCHEMATHESIS_HOOKS=fuzz_hooks FUZZ_WATCH_LOG=$WATCH_LOG
report=.tools/fuzz
rm -rf "$report"
# One worker: Python 3.11's ast.parse is not thread-safe, and Hypothesis calls it.
"$venv/bin/st" --config-file scripts/schemathesis.toml run openapi.yaml --url "$API" \
  -H "Authorization: Bearer ${REFNET_DEMO_API_KEY:-refnet-local-demo-key}" \
  --checks all --seed "$FUZZ_SEED" --max-time "$FUZZ_SECONDS" --workers 1 \
  --report junit,ndjson --report-dir "$report" --output-truncate false "${@:3}"
