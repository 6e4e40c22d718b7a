# Sourced by the smoke and fault tests: the table, the stream poller, `cargo lambda watch` on
# 127.0.0.1:$PORT and the demo seed, then a wait until the API answers (fails if it never
# does). Sets poller_pid, watch_pid and API. Logs go to $1-poller.log and $1-watch.log.
start_stack() {
  local logs=$1
  "$BIN"/refnet-admin create-table >/dev/null
  # The poller reads from the stream's tip: it starts before the seed writes what it must count.
  "$BIN"/stream-poller "http://127.0.0.1:${PORT}" >"${logs}-poller.log" 2>&1 &
  poller_pid=$!
  .venv/bin/cargo-lambda lambda watch --invoke-address 127.0.0.1 --invoke-port "$PORT" \
    --concurrency "${WATCH_CONCURRENCY:-4}" --ignore-changes >"${logs}-watch.log" 2>&1 &
  watch_pid=$!
  "$BIN"/refnet-admin seed-demo >/dev/null
  API="http://127.0.0.1:${PORT}"
  # cargo lambda watch may take minutes to listen on a busy machine: wait while it lives.
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "$API/networks/demo/connections" && return 0
    kill -0 "$watch_pid" 2>/dev/null || break
    sleep 1
  done
  echo "the local API did not answer on $API; its log:" >&2
  tail -20 "${logs}-watch.log" >&2
  return 1
}
