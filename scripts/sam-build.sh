#!/usr/bin/env bash
# `sam build` offline. aws-sam-cli joins cargo-lambda in .venv; that venv comes first on PATH
# because cargo-lambda finds zig through the first python3.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/tools.sh ddb venv
SAM_CLI_VERSION=1.170.0
if [ ! -x .venv/bin/sam ]; then
  echo "installing aws-sam-cli ${SAM_CLI_VERSION} into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check "aws-sam-cli==${SAM_CLI_VERSION}"
fi
export PATH="$PWD/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
sam validate --lint
start=$(date +%s)
# Every function in one cargo invocation first; sam's one make call per function then copies.
./scripts/lambda-build.sh all
built=$(date +%s)
REFNET_PREBUILT=1 sam build --beta-features "$@"
echo "cargo lambda build took $((built - start)) s, sam build $(( $(date +%s) - built )) s" >&2
./scripts/check-artifacts.sh
