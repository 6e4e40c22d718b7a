#!/usr/bin/env bash
# One function's artifact for `sam build` (BuildMethod: makefile): $1 its LogicalId, $2 the
# ARTIFACTS_DIR. The release build covers every function package in one cargo invocation, so
# the first function builds them all and the rest find them built.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
id=$1
out=$2
# AddConnectionFunction -> add-connection
fn=$(printf '%s' "${id%Function}" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
[ -d "functions/$fn" ] || { echo "lambda-build: no function for $id ($fn)" >&2; exit 1; }
pkgs=()
for d in functions/*/; do pkgs+=(-p "$(basename "$d")"); done
# The CLI and the local gateway too, so check-artifacts needs no second (debug) build.
pkgs+=(-p refnet-admin -p local-gateway)
cargo lambda build --release --x86-64 "${pkgs[@]}"
mkdir -p "$out"
cp "$TARGET/lambda/$fn/bootstrap" "$out/bootstrap"
