#!/usr/bin/env bash
# Init, first response, warm latency and peak RSS of the release binaries (as `sam build`
# ships them) against the two floors, behind local-gateway's Runtime API, on a DynamoDB Local
# of its own. Prints ratios; never pass/fail on time.
#
# By default (make bench): the project's profile; the SDK floor stopped at each part of its init
# (FLOOR_STAGE); the functions with and without the warm-up, over plain HTTP and over TLS (a
# local TLS proxy, trusted through SSL_CERT_FILE in these processes only).
# With INIT_BENCH_PROFILES="none thin fat s" (make bench-profiles): each release profile builds
# the targets from clean in a target directory of its own (build time, size), then all run
# interleaved.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target.sh
. scripts/target.sh
./scripts/tools.sh
DDB=${INIT_BENCH_DDB_PORT:-8980}
TLS=${INIT_BENCH_TLS_PORT:-8981}
RUNS=${INIT_BENCH_RUNS:-15}
WARM=${INIT_BENCH_WARM:-300}
PROFILES=${INIT_BENCH_PROFILES:-}
builds=(floor-hello floor-sdk get-user-connections add-connection
  get-referral-info-for-referral-hash admin-jumio-callback)
pkgs=()
for t in "${builds[@]}"; do pkgs+=(-p "$t"); done
bins=$PWD/.tools/init-bench
rm -rf "$bins" && mkdir -p "$bins"
cargo build -q -p init-bench -p refnet-admin

# `link <target dir> <binary> <name> [KEY=VALUE...]`: <name> runs <binary> with those settings.
link() {
  local dir=$1 bin=$2 name=$3
  shift 3
  ln -s "$dir/lambda/$bin/bootstrap" "$bins/$name"
  if [ $# -gt 0 ]; then printf '%s\n' "$@" >"$bins/$name.env"; fi
}

# cargo-lambda links with zig, which it finds through the first python3.
build() { PATH="$PWD/.venv/bin:$PATH" cargo lambda build -q --release --x86-64 "${pkgs[@]}"; }

targets=()
if [ -n "$PROFILES" ]; then
  echo "| profile | clean build s | add-connection bootstrap MB |"
  echo "|---|---|---|"
  for p in $PROFILES; do
    case $p in
      none) lto=false opt=3 ;;
      thin) lto=thin opt=3 ;;
      fat) lto=fat opt=3 ;;
      s) lto=false opt=s ;;
      *) echo "unknown profile $p" >&2; exit 2 ;;
    esac
    dir=$TARGET/profile-$p
    rm -rf "$dir"
    start=$(date +%s)
    CARGO_TARGET_DIR=$dir CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt build
    secs=$(($(date +%s) - start))
    size=$(stat -c %s "$dir/lambda/add-connection/bootstrap")
    echo "| $p (lto=$lto, opt-level=$opt) | $secs | $(awk "BEGIN{printf \"%.1f\", $size/1048576}") |"
    for t in "${builds[@]}"; do
      link "$dir" "$t" "$t@$p"
      targets+=("$t@$p")
    done
  done
else
  build
  dir=$TARGET
  for t in "${builds[@]}"; do link "$dir" "$t" "$t"; done
  targets=("${builds[@]:0:2}")
  for stage in linked env env-warm; do
    link "$dir" floor-sdk "floor-sdk@$stage" "FLOOR_STAGE=$stage"
    targets+=("floor-sdk@$stage")
  done
  # The SDK's default roots without the certificate directory's scan: the bundle file alone.
  mkdir -p "$bins/no-cert-dir"
  link "$dir" floor-sdk floor-sdk@env-bundle FLOOR_STAGE=env "SSL_CERT_DIR=$bins/no-cert-dir" \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
  targets+=(floor-sdk@env-bundle "${builds[@]:2}")
  link "$dir" add-connection add-connection@cold REFNET_WARM_CONNECTION=0
  targets+=(add-connection@cold)
  # Over TLS: the system's roots plus the proxy's own certificate, as the SDK's client loads
  # them (rustls-native-certs reads SSL_CERT_FILE).
  tls=$PWD/.tools/init-bench-tls
  mkdir -p "$tls"
  # A throwaway CA and its localhost certificate (webpki refuses a CA as the server's own).
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 2 -subj /CN=refnet-bench-ca \
    -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
  openssl req "${ec[@]}" -subj /CN=localhost -keyout "$tls/key.pem" -out "$tls/req.pem" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/req.pem" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/cert.pem" 2>/dev/null
  cat /etc/ssl/certs/ca-certificates.crt "$tls/ca.pem" >"$tls/roots.pem"
  via_tls=("AWS_ENDPOINT_URL_DYNAMODB=https://localhost:$TLS" "SSL_CERT_FILE=$tls/roots.pem")
  link "$dir" floor-sdk floor-sdk@tls FLOOR_STAGE=env "${via_tls[@]}"
  link "$dir" floor-sdk floor-sdk@tls-warm FLOOR_STAGE=env-warm "${via_tls[@]}"
  targets+=(floor-sdk@tls floor-sdk@tls-warm)
  for f in add-connection get-referral-info-for-referral-hash; do
    link "$dir" "$f" "$f@tls-cold" REFNET_WARM_CONNECTION=0 "${via_tls[@]}"
    link "$dir" "$f" "$f@tls-warm" "${via_tls[@]}"
    targets+=("$f@tls-cold" "$f@tls-warm")
  done
fi

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB}" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=refnet-init-bench DESO_NETWORK_ID=demo DESO_PROGRAM_ID=default RUST_LOG=warn
export REFNET_DEMO_API_KEY=refnet-local-demo-key
export SUPER_ADMIN_PUBLIC_KEYS=BC1YLiv5upLZa6CeDbqey6uj1sTLia94HTKJrB4b16AhEyWU39sEv7u
./scripts/ddb-local.sh start "$DDB"
proxy=
cleanup() {
  if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null || true; fi
  ./scripts/ddb-local.sh stop "$DDB"
}
trap cleanup EXIT
if [ -z "$PROFILES" ]; then
  python3 scripts/tls_proxy.py "$TLS" "$DDB" "$tls/cert.pem" "$tls/key.pem" &
  proxy=$!
fi
"$BIN"/refnet-admin seed-demo >/dev/null
# Fresh JWTs, valid longer than the runs take.
"$BIN"/refnet-admin events >/dev/null
"$BIN"/init-bench "$bins" .tools/events "$RUNS" "$WARM" "${targets[@]}"
