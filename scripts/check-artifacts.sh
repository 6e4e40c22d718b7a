#!/usr/bin/env bash
# Runs each `sam build` artifact (.aws-sam/build/<LogicalId>/bootstrap) on its sample event,
# behind local-gateway's Runtime API, on a DynamoDB Local and demo seed of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
DDB=${ARTIFACTS_DDB_PORT:-8970}
PORT=${ARTIFACTS_PORT:-9170}
./scripts/tools.sh ddb venv
# The release CLI and gateway of the same `cargo lambda build` as the artifacts, when there;
# else a debug build.
if [ -x "$TARGET/lambda/refnet-admin/bootstrap" ] && [ -x "$TARGET/lambda/local-gateway/bootstrap" ]; then
  admin="$TARGET/lambda/refnet-admin/bootstrap" gateway="$TARGET/lambda/local-gateway/bootstrap"
else
  cargo build -q -p refnet-admin -p local-gateway
  admin="$BIN/refnet-admin" gateway="$BIN/local-gateway"
fi
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB}" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=refnet-artifacts DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=warn
export REFNET_DEMO_API_KEY=refnet-local-demo-key
# One sweep of the webhook sender takes 55 s by default, past the gateway's 30 s for an answer.
export WEBHOOK_SWEEP_SECS=2
export SUPER_ADMIN_PUBLIC_KEYS=BC1YLiv5upLZa6CeDbqey6uj1sTLia94HTKJrB4b16AhEyWU39sEv7u
bins=.tools/artifacts
rm -rf "$bins" && mkdir -p "$bins"
n=0
for f in functions/*/; do
  fn=$(basename "$f")
  id=$(printf '%s' "$fn" | awk -F- '{for (i = 1; i <= NF; i++) printf "%s", toupper(substr($i, 1, 1)) substr($i, 2)}')Function
  art=".aws-sam/build/$id/bootstrap"
  [ -x "$art" ] || { echo "check-artifacts: no artifact $art for $fn" >&2; exit 1; }
  ln -s "$PWD/$art" "$bins/$fn"
  n=$((n + 1))
done
./scripts/ddb-local.sh start "$DDB"
gateway_pid=""
trap 'kill $gateway_pid 2>/dev/null || true; ./scripts/ddb-local.sh stop "$DDB"' EXIT
"$admin" seed-demo >/dev/null
"$admin" events >/dev/null
"$gateway" "$PORT" "$bins" >.tools/artifacts.log 2>&1 &
gateway_pid=$!
sleep 1
.venv/bin/python scripts/check_artifacts.py "http://127.0.0.1:$PORT" .tools/events
echo "check-artifacts: all $n artifacts answer their events"
