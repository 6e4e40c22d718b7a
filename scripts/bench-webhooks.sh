#!/usr/bin/env bash
# Webhook delivery under a steady 50 changes/s over HTTP: local-gateway (API Gateway and the
# Lambda Runtime API, 4 processes a function) -> conflict proxy (no holds: it counts calls) ->
# DynamoDB Local, with the stream poller and the sender running as `make dev` runs them.
# `cargo lambda watch` stopped taking invocations after the load here. Prints lag and rate
# ratios; never passes or fails on time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
./scripts/tools.sh ddb venv

DDB_PORT=${BENCH_DDB_PORT:-8770}
PROXY_PORT=${BENCH_PROXY_PORT:-8771}
API_PORT=${BENCH_API_PORT:-9410}
RATE=${BENCH_RATE:-50}
SECS=${BENCH_SECONDS:-120}
KEY=bench-webhooks-key-0123456789

./scripts/ddb-local.sh start "$DDB_PORT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ./scripts/ddb-local.sh stop "$DDB_PORT"
}
trap cleanup EXIT
export AWS_REGION=us-east-1 TABLE_NAME=refnet-bench-webhooks DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=error
# DynamoDB Local accepts any credentials; these are placeholders, not secrets.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${PROXY_PORT}"
# Each sender run ends within local-gateway's 30 s invocation timeout (API Gateway's).
export WEBHOOK_SWEEP_SECS=25
cargo build -q --workspace --bins
"$BIN"/conflict-proxy "$PROXY_PORT" "http://127.0.0.1:${DDB_PORT}" 0 2>.tools/bench-webhooks-proxy.log &
pids+=($!)
sleep 0.5
"$BIN"/refnet-admin create-table >/dev/null
REFNET_DEMO_API_KEY=$KEY "$BIN"/refnet-admin seed-demo >/dev/null
"$BIN"/stream-poller "http://127.0.0.1:${API_PORT}" >.tools/bench-webhooks-poller.log 2>&1 &
pids+=($!)
"$BIN"/local-gateway "$API_PORT" "$BIN" 4 >.tools/bench-webhooks-gateway.log 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:${API_PORT}/networks/demo/connections" && break
  sleep 1
done
.venv/bin/python scripts/bench_webhooks.py "http://127.0.0.1:${API_PORT}" "$KEY" \
  "http://127.0.0.1:${PROXY_PORT}" "$RATE" "$SECS" 30
