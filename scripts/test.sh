#!/usr/bin/env bash
# Lint, unit and integration tests (on a DynamoDB Local it starts and stops), template lint.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/tools.sh
# shellcheck source=scripts/target.sh
. scripts/target.sh

cargo fmt --all --check

cargo clippy --workspace --all-targets -- -D warnings

TEST_DDB_PORT=${TEST_DDB_PORT:-8766}
./scripts/ddb-local.sh start "$TEST_DDB_PORT"
trap './scripts/ddb-local.sh stop "$TEST_DDB_PORT"' EXIT

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${TEST_DDB_PORT}"
export AWS_REGION=us-east-1
# DynamoDB Local accepts any credentials; these are placeholders, not secrets.
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
./scripts/smoke.sh
# The stack from a copy of the repo whose target directory is elsewhere (CARGO_TARGET_DIR).
./scripts/target-dir-test.sh
# On a DynamoDB Local of its own: killed mid-burst, restarted, then slow.
./scripts/faults.sh

.venv/bin/cfn-lint template.yaml
echo "cfn-lint: template.yaml passed"
.venv/bin/openapi-spec-validator openapi.yaml
# Every example in the spec, and every sample event, validates against its schema.
.venv/bin/python scripts/spec_examples.py

log=$(mktemp)
rm -f "$TARGET/tmp/policy-use.txt"
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
# What each function did in the tests, against the access its IAM policy is generated from.
[ ! -f "$TARGET/tmp/policy-use.txt" ] || "$BIN"/refnet-admin policy-use "$TARGET/tmp/policy-use.txt"
exit "$status"
