#!/usr/bin/env bash
# Init, first response, warm latency and peak RSS of the release binaries (as `sam build`
# ships them) against the two floors, behind local-gateway's Runtime API, on a DynamoDB Local
# of its own. Prints ratios; never pass/fail on time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/tools.sh
DDB=${INIT_BENCH_DDB_PORT:-8980}
RUNS=${INIT_BENCH_RUNS:-15}
WARM=${INIT_BENCH_WARM:-300}
targets=(floor-hello floor-sdk get-user-connections add-connection
  get-referral-info-for-referral-hash admin-jumio-callback)
pkgs=()
for t in "${targets[@]}"; do pkgs+=(-p "$t"); done
# cargo-lambda links with zig, which it finds through the first python3.
PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --x86-64 "${pkgs[@]}"
cargo build -q -p init-bench -p refnet-admin
bins=.tools/init-bench
rm -rf "$bins" && mkdir -p "$bins"
for t in "${targets[@]}"; do ln -s "$PWD/target/lambda/$t/bootstrap" "$bins/$t"; done
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB}" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=refnet-init-bench DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=warn
export REFNET_DEMO_API_KEY=refnet-local-demo-key
export SUPER_ADMIN_PUBLIC_KEYS=BC1YLiv5upLZa6CeDbqey6uj1sTLia94HTKJrB4b16AhEyWU39sEv7u
./scripts/ddb-local.sh start "$DDB"
trap './scripts/ddb-local.sh stop "$DDB"' EXIT
./target/debug/refnet-admin seed-demo >/dev/null
# Fresh JWTs, valid longer than the runs take.
./target/debug/refnet-admin events >/dev/null
./target/debug/init-bench "$bins" .tools/events "$RUNS" "$WARM"
