#!/usr/bin/env bash
# Signups under load over HTTP: cargo lambda watch -> conflict proxy -> DynamoDB Local, one
# mode per way signups can share items, with the proxy holding each transaction's items 20 ms,
# then 50 ms. Prints tables of rates and ratios; never passes or fails on time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
./scripts/tools.sh

DDB_PORT=${BENCH_DDB_PORT:-8768}
PROXY_PORT=${BENCH_PROXY_PORT:-8769}
API_PORT=${BENCH_API_PORT:-9400}
SECS=${BENCH_SECONDS:-10}
HOLDS=${BENCH_HOLDS:-20,50}
KEY=bench-scale-key-0123456789
# A local super admin for the DeSo mode: a published seed, refused by any non-local stack.
export BENCH_ADMIN_SEED=$(printf 'b5%.0s' $(seq 32))

./scripts/ddb-local.sh start "$DDB_PORT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ./scripts/ddb-local.sh stop "$DDB_PORT"
}
trap cleanup EXIT

export AWS_REGION=us-east-1 TABLE_NAME=refnet-bench DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=error
# DynamoDB Local accepts any credentials; these are placeholders, not secrets.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB_PORT}"
cargo build -q --workspace --bins
REFNET_DEMO_API_KEY=$KEY "$BIN"/refnet-admin seed-demo >/dev/null
SUPER_ADMIN_PUBLIC_KEYS=$("$BIN"/refnet-admin deso-jwt "$BENCH_ADMIN_SEED" | sed 's/.*"PublicKeyBase58Check":"\([^"]*\)".*/\1/')
export SUPER_ADMIN_PUBLIC_KEYS

"$BIN"/conflict-proxy "$PROXY_PORT" "$AWS_ENDPOINT_URL_DYNAMODB" 20 2>.tools/bench-proxy.log &
pids+=($!)
AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${PROXY_PORT}" .venv/bin/cargo-lambda lambda watch \
  --invoke-address 127.0.0.1 --invoke-port "$API_PORT" --concurrency 12 --ignore-changes \
  >.tools/bench-watch.log 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:${API_PORT}/networks/demo/connections" && break
  sleep 1
done
# The stream consumers are not run for the signup modes: the aggregator's writes are measured
# apart (README, capacity model), and signups do not wait for it.
# BENCH_ONLY=events runs the events modes alone.
if [ "${BENCH_ONLY:-}" != events ]; then
  "$BIN"/bench-scale "http://127.0.0.1:${API_PORT}" "http://127.0.0.1:${PROXY_PORT}" "$KEY" "$SECS" "$HOLDS"
fi
# Events settle through the rewards consumer: the stream poller runs for the events modes.
"$BIN"/stream-poller "http://127.0.0.1:${API_PORT}" >.tools/bench-poller.log 2>&1 &
pids+=($!)
"$BIN"/bench-scale "http://127.0.0.1:${API_PORT}" "http://127.0.0.1:${PROXY_PORT}" "$KEY" "$SECS" "$HOLDS" events
