#!/usr/bin/env bash
# Schemathesis over every operation of openapi.yaml against a running stack, with every check.
# $1: the stack's base URL (local-gateway); $2: the log where its functions log each request
# ("request done", RUST_LOG shared::http=info). Needs the demo seed (its network key
# and super admin). A fixed seed and time budget: a failure reproduces with the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
API=$1
FN_LOG=$2
FUZZ_SEED=${FUZZ_SEED:-20261123}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
venv=.tools/schemathesis

# The hooks drop one answer as API Gateway's own: a method the API does not declare gets its 404
# (the fuzzer wants 405). Show first that no function runs for it: the function's log gains a
# line for each request it answers (a bad hash, a body that is not UTF-8), and none for TRACE.
served() { grep -c '"request done"' "$FN_LOG" || true; }
probe() { # curl args...
  local before got after
  before=$(served)
  got=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$API/api/v0/get-referral-info-for-referral-hash")
  sleep 1
  after=$(served)
  echo "$got $((after - before))"
}
answered=$(probe -X POST -H 'Content-Type: application/json' --data-binary '{"ReferralHash":"x"}')
not_utf8=$(probe -X POST -H 'Content-Type: application/json' --data-binary $'{"ReferralHash":"\xff\xfe"}')
undeclared=$(probe -X TRACE)
echo "fuzz: a bad hash: status and function log lines '$answered'; a non-UTF-8 body: '$not_utf8'; TRACE: '$undeclared'"
if [ "$answered" != "400 1" ] || [ "$not_utf8" != "400 1" ] || [ "$undeclared" != "404 0" ]; then
  echo "fuzz FAIL: the answer the hooks drop is not the gateway's alone" >&2
  exit 1
fi

# Fresh JWTs: the admin's lives an hour (ADMIN_JWT_MAX_LIFETIME_SECS), longer than the run.
seed() { printf "$1%.0s" $(seq 32); }
FUZZ_ADMIN=$("$BIN"/refnet-admin deso-jwt "$(seed a1)" 3600)
FUZZ_USER=$("$BIN"/refnet-admin deso-jwt "$(seed b2)" 3600)
export FUZZ_ADMIN FUZZ_USER PYTHONPATH=scripts SCHEMATHESIS_HOOKS=fuzz_hooks
report=.tools/fuzz
rm -rf "$report"
# One worker: Python 3.11's ast.parse is not thread-safe, and Hypothesis calls it.
"$venv/bin/st" --config-file scripts/schemathesis.toml run openapi.yaml --url "$API" \
  -H "Authorization: Bearer ${REFNET_DEMO_API_KEY:-refnet-local-demo-key}" \
  --checks all --seed "$FUZZ_SEED" --max-time "$FUZZ_SECONDS" --workers 1 \
  --report junit,ndjson --report-dir "$report" --output-truncate false "${@:3}"
