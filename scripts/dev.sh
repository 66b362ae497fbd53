#!/usr/bin/env bash
# make dev: the whole platform on http://127.0.0.1:${PORT:-3000}, in the foreground.
# Starts the AWS stand-in (moto) on 127.0.0.1:${MOTO_PORT:-4566}, creates template.yaml's
# resources in it, serves every route, relays events and runs the consumers.
# Ctrl-C or SIGTERM stops everything it started.
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_tools

PORT="${PORT:-3000}"
MOTO_PORT="${MOTO_PORT:-4566}"
SEARCH_PORT="${SEARCH_PORT:-9200}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$ROOT/.local"

# Signing and field-encryption keys: generated into the stand-in's Secrets Manager when the
# stack is provisioned (as CloudFormation does); `make rotate-keys` rotates them.

log "building the local gateway"
cargo build -q -p devstack --bin local-gateway --bin create-admin

for p in "$PORT" "$MOTO_PORT" "$SEARCH_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    log "port $p is already in use; stop what uses it or set PORT / MOTO_PORT / SEARCH_PORT"; exit 1
  fi
done

GW_PID=""
MOTO_PID=""
SEARCH_PID=""
cleanup() {
  trap - INT TERM EXIT
  # (under set -e: a child that already stopped must not end the cleanup early)
  if [ -n "$GW_PID" ]; then kill -TERM "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; fi
  if [ -n "$MOTO_PID" ]; then kill -TERM "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; fi
  if [ -n "$SEARCH_PID" ]; then kill -TERM "$SEARCH_PID" 2>/dev/null || true; wait "$SEARCH_PID" 2>/dev/null || true; fi
  log "stopped"
}
# A requested stop (Ctrl-C, SIGTERM) is a clean exit; any other exit keeps its status.
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

log "starting the AWS stand-in (moto) on 127.0.0.1:$MOTO_PORT (log: .local/moto.log)"
start_moto "$MOTO_PORT" "$ROOT/.local/moto.log"
aws_stand_in_env "$MOTO_PORT"
log "starting the search stand-in (osmem-server) on 127.0.0.1:$SEARCH_PORT (log: .local/search.log)"
start_search "$SEARCH_PORT" "$ROOT/.local/search.log"

PORT="$PORT" LOCAL_PREFIX=dev "$TARGET_DIR/debug/local-gateway" &
GW_PID=$!
if wait_http "http://127.0.0.1:$PORT/health" 60; then
  log "ready: http://127.0.0.1:$PORT (GET /health is 200). AWS stand-in: $AWS_ENDPOINT_URL. Search stand-in: $LOCAL_SEARCH_URL. Demo data: make seed (another terminal). Ctrl-C stops."
else
  log "the gateway did not become ready"; exit 1
fi
wait "$GW_PID"
