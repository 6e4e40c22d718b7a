#!/usr/bin/env bash
# The release build of every function, in one cargo invocation:
#   lambda-build.sh all               build them all (with the CLI and the local gateway, so
#                                     check-artifacts needs no second, debug build)
#   lambda-build.sh <LogicalId> <dir> one function's artifact for `sam build` (BuildMethod:
#                                     makefile): builds all first unless REFNET_PREBUILT=1
#                                     says `make sam-build` just did, then copies its bootstrap
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
build_all() {
  local pkgs=()
  for d in functions/*/; do pkgs+=(-p "$(basename "$d")"); done
  pkgs+=(-p refnet-admin -p local-gateway)
  cargo lambda build --release --x86-64 "${pkgs[@]}"
}
if [ "$1" = all ]; then
  build_all
  exit 0
fi
id=$1
out=$2
# AddConnectionFunction -> add-connection
fn=$(printf '%s' "${id%Function}" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
[ -d "functions/$fn" ] || { echo "lambda-build: no function for $id ($fn)" >&2; exit 1; }
[ "${REFNET_PREBUILT:-}" = 1 ] || build_all
mkdir -p "$out"
cp "$TARGET/lambda/$fn/bootstrap" "$out/bootstrap"
