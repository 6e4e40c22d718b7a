#!/usr/bin/env bash
# The local stack: DynamoDB Local, the table, the demo network, and every route of the API
# at http://127.0.0.1:9000 through cargo lambda watch. Ctrl-C stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh

./scripts/tools.sh

DEV_DDB_PORT=${DEV_DDB_PORT:-8000}
export AWS_REGION=${AWS_REGION:-us-east-1}
export TABLE_NAME=${TABLE_NAME:-refnet}
export DESO_NETWORK_ID=${DESO_NETWORK_ID:-demo}
export DESO_PROGRAM_ID=${DESO_PROGRAM_ID:-default}
export RUST_LOG=${RUST_LOG:-info}

started_ddb=""
poller_pid=""
cleanup() {
  if [ -n "$poller_pid" ]; then kill "$poller_pid" 2>/dev/null || true; fi
  if [ -n "$started_ddb" ]; then ./scripts/ddb-local.sh stop "$DEV_DDB_PORT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  # DynamoDB Local accepts any credentials; these are placeholders, not secrets.
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
  ./scripts/ddb-local.sh start "$DEV_DDB_PORT" .tools/dev-db
  started_ddb=1
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DEV_DDB_PORT}"
else
  echo "using DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB" >&2
  case "$AWS_ENDPOINT_URL_DYNAMODB" in
    http://127.0.0.1:*|http://localhost:*)
      # A local DynamoDB takes any credentials; placeholders when none are set.
      export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
      export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
      ;;
  esac
fi

# Build every function up front so the first request to each does not wait for a compile.
cargo build --workspace --bins
"$BIN"/refnet-admin create-table

# The table's stream, delivered to the aggregator and the move worker as on AWS. It reads from
# the stream's tip, so it starts before the seed writes anything it must count.
"$BIN"/stream-poller http://127.0.0.1:9000 &
poller_pid=$!
"$BIN"/refnet-admin seed-demo

echo "Refnet API on http://127.0.0.1:9000, its console on http://127.0.0.1:9000/console (Ctrl-C stops it)" >&2
.venv/bin/cargo-lambda lambda watch \
  --invoke-address 127.0.0.1 --invoke-port 9000 \
  --concurrency "${REFNET_CONCURRENCY:-8}" \
  --ignore-changes
