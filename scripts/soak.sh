#!/usr/bin/env bash
# Soak for `make bench`: SOAK_SECONDS (600) of steady mixed load at SOAK_RATE requests/s (20)
# over real HTTP, on a stack and DynamoDB Local of its own (local only). See scripts/soak.py.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh

DDB=${SOAK_DDB_PORT:-8960}
PORT=${SOAK_PORT:-9160}
SECONDS_TOTAL=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-20}
mkdir -p .tools/soak
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB}"
export TABLE_NAME=refnet-soak DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=warn
export SUPER_ADMIN_PUBLIC_KEYS=BC1YLiv5upLZa6CeDbqey6uj1sTLia94HTKJrB4b16AhEyWU39sEv7u
cargo build -q --workspace --bins
./scripts/ddb-local.sh start "$DDB"
watch_pid="" poller_pid=""
cleanup() {
  kill ${watch_pid:+"$watch_pid"} ${poller_pid:+"$poller_pid"} 2>/dev/null || true
  ./scripts/ddb-local.sh stop "$DDB"
}
trap cleanup EXIT
# shellcheck source=scripts/stack.sh
. scripts/stack.sh
start_stack .tools/soak/stack

# One DeSo user per sign-up (begin, then credit): rate x seconds / 5 requests a cycle.
BIN=$BIN python3 - "$((RATE * SECONDS_TOTAL / 5 + 1))" >.tools/soak/users.json <<'PY'
import json, os, subprocess, sys
def jwt(seed, ttl):
    out = subprocess.run([os.environ["BIN"] + "/refnet-admin", "deso-jwt", seed, str(ttl)],
                         check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    return {"key": d["PublicKeyBase58Check"], "jwt": d["JWT"]}
users = [jwt(f"{i + 1:064x}", 0) for i in range(int(sys.argv[1]))]
print(json.dumps({"admin": jwt("a1" * 32, 3600), "users": users}))
PY
BIN=$BIN python3 scripts/soak.py "$API" .tools/soak/users.json "$SECONDS_TOTAL" "$RATE" .tools/soak/report.json \
  "$watch_pid"
# Every invariant over what the soak wrote, once the counts have settled.
for _ in $(seq 1 30); do
  if "$BIN"/refnet-admin check >.tools/soak/check.log 2>&1; then
    echo "soak: refnet-admin check: $(tail -1 .tools/soak/check.log)"
    exit 0
  fi
  sleep 2
done
echo "soak FAIL: refnet-admin check"; cat .tools/soak/check.log; exit 1
