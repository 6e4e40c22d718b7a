.PHONY: dev test sam-build bench bench-scale

# The local stack on http://127.0.0.1:9000 (DynamoDB Local, table, demo network, all routes).
dev:
	./scripts/dev.sh

# fmt, clippy, unit and integration tests on DynamoDB Local, cfn-lint.
test:
	./scripts/test.sh

# `sam build` offline, with aws-sam-cli and cargo-lambda in one venv first on PATH.
sam-build:
	./scripts/sam-build.sh

# Latency ratios and calls of the hot store paths on DynamoDB Local (release build).
bench:
	./scripts/bench.sh

# Signups/s per load mode through the conflict proxy (20 and 50 ms holds), over HTTP.
bench-scale:
	./scripts/bench-scale.sh
