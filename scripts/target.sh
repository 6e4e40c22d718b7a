# Sourced by the scripts that run what cargo built: TARGET is cargo's target directory, as
# cargo resolves it (CARGO_TARGET_DIR, build.target-dir, or ./target), and BIN its debug binaries.
TARGET=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$TARGET/debug"
export REFNET_TARGET_DIR="$TARGET"
