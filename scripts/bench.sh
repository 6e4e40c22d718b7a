#!/usr/bin/env bash
# Benchmarks on a DynamoDB Local of their own; prints ratios, never pass/fail on time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/tools.sh
BENCH_DDB_PORT=${BENCH_DDB_PORT:-8767}
./scripts/ddb-local.sh start "$BENCH_DDB_PORT"
trap './scripts/ddb-local.sh stop "$BENCH_DDB_PORT"' EXIT
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${BENCH_DDB_PORT}" AWS_REGION=us-east-1
# DynamoDB Local accepts any credentials; these are placeholders, not secrets.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
cargo bench -p shared --bench store_paths --bench capacity --bench big_move --bench admin_reads
# Webhook delivery at a steady 50 changes/s for two minutes (scripts/bench-webhooks.sh).
./scripts/bench-webhooks.sh
# Ten minutes of steady mixed load over HTTP: errors, latency drift, RSS (scripts/soak.sh).
./scripts/soak.sh
# Cold starts and warm latency of the release binaries against two floors (scripts/init-bench.sh).
./scripts/init-bench.sh
