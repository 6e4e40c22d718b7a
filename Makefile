.PHONY: dev test sam-build check-artifacts bench bench-scale bench-profiles bench-webhooks

# The local stack on http://127.0.0.1:9000 (DynamoDB Local, table, demo network, all routes).
dev:
	./scripts/dev.sh

# fmt, clippy, unit and integration tests on DynamoDB Local, cfn-lint.
test:
	./scripts/test.sh

# `sam build` offline, with aws-sam-cli and cargo-lambda in one venv first on PATH, then
# check-artifacts.
sam-build:
	./scripts/sam-build.sh

# Each .aws-sam/build/*/bootstrap on its sample event, behind a stand-in Runtime API.
check-artifacts:
	./scripts/check-artifacts.sh

# sam build's makefile method (BuildMethod: makefile), once per function: the first builds every
# function in one cargo invocation, the others find it built; each copies its own bootstrap.
build-%:
	./scripts/lambda-build.sh "$*" "$(ARTIFACTS_DIR)"

# Latency ratios and calls of the hot store paths on DynamoDB Local (release build), the soak,
# and cold starts against two floors.
bench:
	./scripts/bench.sh

# Signups/s per load mode through the conflict proxy (20 and 50 ms holds), over HTTP.
bench-scale:
	./scripts/bench-scale.sh

bench-webhooks:
	./scripts/bench-webhooks.sh

# The release profiles (none, thin and fat LTO, opt-level s) built from clean and run
# interleaved: build time, size, init, latency, RSS.
bench-profiles:
	INIT_BENCH_PROFILES="none thin fat s" ./scripts/init-bench.sh
