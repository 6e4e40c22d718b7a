#!/usr/bin/env bash
# The stack as a user with CARGO_TARGET_DIR runs it: a copy of the repo with no ./target, its
# target directory elsewhere. The table, seed-demo and one request over HTTP must work, so no
# script may assume ./target. The copy's target starts as hard links to this one's (so only the
# workspace's own crates compile), or empty where that cannot be.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
DDB=${TARGET_TEST_DDB_PORT:-8980}
PORT=${TARGET_TEST_PORT:-9180}
work=$(mktemp -d "$PWD/.tools/target-test.XXXXXX")
repo="$work/repo"
watch_pid="" poller_pid=""
# shellcheck source=scripts/stack.sh
. scripts/stack.sh
cleanup() {
  # Every build cargo lambda watch started has ended before its target directory goes.
  stop_tree "$watch_pid" "$poller_pid"
  ./scripts/ddb-local.sh stop "$DDB"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$repo"
ln -s "$PWD/.tools" "$repo/.tools"
ln -s "$PWD/.venv" "$repo/.venv"
cp -al "$TARGET" "$work/target" 2>/dev/null || mkdir -p "$work/target"
./scripts/ddb-local.sh start "$DDB"

cd "$repo"
[ ! -e target ] || { echo "target-dir test: the copy has a ./target" >&2; exit 1; }
export CARGO_TARGET_DIR="$work/target"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB}" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=refnet-target DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=warn
export REFNET_DEMO_API_KEY=refnet-local-demo-key
cargo build -q -p refnet-admin -p stream-poller -p list-programs
# shellcheck source=scripts/target.sh
. scripts/target.sh
[ "$BIN" = "$CARGO_TARGET_DIR/debug" ] || { echo "target-dir test: BIN is $BIN" >&2; exit 1; }
start_stack "$work/stack"
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 120 \
  -H "Authorization: Bearer $REFNET_DEMO_API_KEY" "$API/networks/demo/connections")
[ ! -e target ] || { echo "target-dir test: something wrote ./target" >&2; exit 1; }
if [ "$got" = 200 ]; then
  echo "target-dir test ok: the stack runs with CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
else
  echo "target-dir test FAIL: list programs answered $got"
  tail -20 "$work/stack-watch.log" >&2
  exit 1
fi
