#!/usr/bin/env bash
# The seed scenario of the reference post: load on the source, a live migration,
# stop the load, drain, verify both ways. By default on two local DynamoDB servers
# that this script starts; with DEMO_CONFIG=FILE, on the servers that FILE names,
# which must already be running (the docker-compose stack does this).
set -euo pipefail
cd "$(dirname "$0")/.."
toolkit=".venv/bin/toolkit"
config="${DEMO_CONFIG:-demo/config.yaml}"
state="${config%.*}.state.sqlite" # the toolkit's default: beside the config
ops_log="demo/operations.jsonl"
load_seconds="${DEMO_LOAD_SECONDS:-20}"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

if [[ -n "${DEMO_CONFIG:-}" ]]; then
  say "Using the running servers named in $config"
else
  say "Fresh local servers: source on 8000, target on 8001"
  "$toolkit" local down >/dev/null
  "$toolkit" local up
fi
rm -f "$state" "$state"-* "$ops_log"

say "The source table migration_test, with 10,000 keys"
"$toolkit" mutate --config "$config" --create-table --load 10000 --max-item-bytes 2000

say "Load: 10-25 puts and deletes a second over the 10,000 keys, while we migrate"
"$toolkit" mutate --config "$config" --keys 10000 --max-item-bytes 2000 \
  --window 5 --log "$ops_log" &
pids+=($!)

say "Migrate: schema, stream, snapshot, then the stream's changes"
"$toolkit" migrate --config "$config" &
migrator=$!
pids+=("$migrator")

# The load goes on while the snapshot is copied, and for a while after it.
.venv/bin/python - "$state" <<'PY'
import sqlite3, sys, time
deadline = time.monotonic() + 900
while time.monotonic() < deadline:
    try:
        with sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM run WHERE name = 'snapshot'").fetchone()
        if row and row[0] == "done":
            break
    except sqlite3.Error:
        pass
    time.sleep(0.5)
PY
sleep "$load_seconds"
say "Stop the load"
kill -INT "${pids[0]}"
wait "${pids[0]}" || true

say "Stop the migrator (it checkpoints), then resume it until the stream is drained"
kill -TERM "$migrator"
wait "$migrator" || true
"$toolkit" migrate --config "$config" --stop-when-drained

say "Verify: source minus target and target minus source must both be empty"
"$toolkit" verify --config "$config" --both-directions
