#!/usr/bin/env bash
# Lint, unit and integration tests (on a DynamoDB Local it starts and stops), template lint.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's time, printed at the end however the run ends (the README's table of runs).
times=()
step() {
  local name=$1 t0=$SECONDS
  shift
  "$@"
  times+=("$name $((SECONDS - t0))")
}
TEST_DDB_PORT=${TEST_DDB_PORT:-8766}
finish() {
  local status=$?
  ./scripts/ddb-local.sh stop "$TEST_DDB_PORT"
  echo "steps (s):${times[*]/#/ | }"
  echo "make test: exit ${status} after ${SECONDS} s"
}
trap finish EXIT

step tools ./scripts/tools.sh
# shellcheck source=scripts/target.sh
. scripts/target.sh

step fmt cargo fmt --all --check

step clippy cargo clippy --workspace --all-targets -- -D warnings

step ddb-start ./scripts/ddb-local.sh start "$TEST_DDB_PORT"

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${TEST_DDB_PORT}"
export AWS_REGION=us-east-1
# DynamoDB Local accepts any credentials; these are placeholders, not secrets.
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
step smoke ./scripts/smoke.sh
# The stack from a copy of the repo whose target directory is elsewhere (CARGO_TARGET_DIR).
step target-dir ./scripts/target-dir-test.sh
# On a DynamoDB Local of its own: killed mid-burst, restarted, then slow.
step faults ./scripts/faults.sh

step cfn-lint .venv/bin/cfn-lint template.yaml
echo "cfn-lint: template.yaml passed"
step openapi .venv/bin/openapi-spec-validator openapi.yaml
# Every example in the spec, and every sample event, validates against its schema.
step spec-examples .venv/bin/python scripts/spec_examples.py

# cargo test on a fresh DynamoDB Local: the smoke's and the fuzzer's tables stay out of its way.
# What else still runs is printed, so a slow run can be traced to it.
# (start stops the instance first)
step ddb-restart ./scripts/ddb-local.sh start "$TEST_DDB_PORT"
# sed reads the whole list: head would close the pipe early, and ps's SIGPIPE (141) would end
# the run under pipefail.
ps -eo pid,pcpu,rss,etime,args --sort=-pcpu | cut -c1-160 | sed -n '1,12p'

log=$(mktemp)
rm -f "$TARGET/tmp/policy-use.txt"
set +e
t0=$SECONDS
cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
times+=("cargo-test $((SECONDS - t0))")
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
# What each function did in the tests, against the access its IAM policy is generated from.
[ ! -f "$TARGET/tmp/policy-use.txt" ] || "$BIN"/refnet-admin policy-use "$TARGET/tmp/policy-use.txt"
exit "$status"
