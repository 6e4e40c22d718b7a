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

# Stops each process and everything it started (cargo lambda watch runs cargo and the
# functions as its children), and returns once they have all exited: a build left running
# would go on writing into the target directory.
stop_tree() {
  local pids=() p
  collect() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do collect "$c"; done
    pids+=("$1")
  }
  for p in "$@"; do [ -z "$p" ] || collect "$p"; done
  [ ${#pids[@]} = 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}
