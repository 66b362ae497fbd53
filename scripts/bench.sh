#!/usr/bin/env bash
# make bench: release builds of the crate binaries (host architecture), then per function of
# template.yaml: binary size, init (exec -> first Runtime API poll), cold invocation (exec ->
# response to a real first event, SDK clients created on it) and warm invocations, against a
# fresh AWS stand-in (and the search stand-in) on free loopback ports. Then the cost of
# matching a new job against saved searches (alert-bench). Figures go to docs/performance.md
# by hand. Last, the DynamoDB calls per route of a seeker session, counted by the tests.
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_tools
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
log "release build of the crate binaries ($(uname -m))"
started=$(date +%s)
cargo build --release -q -p auth -p platform -p notifications -p companies -p categories -p profiles -p admin -p jobs -p files -p privacy -p applications -p search -p analytics
log "release build took $(( $(date +%s) - started )) s"
cargo build -q -p devstack --bin coldstart-bench --bin alert-bench

PORT="$(free_port)"
mkdir -p "$CACHE"
MOTO_LOG="$CACHE/moto-bench-$PORT.log"
MOTO_PID=""
SEARCH_PID=""
SEARCH_PORT="$(free_port)"
SEARCH_LOG="$CACHE/search-bench-$SEARCH_PORT.log"
trap '[ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null; [ -n "$SEARCH_PID" ] && kill "$SEARCH_PID" 2>/dev/null; rm -f "$MOTO_LOG" "$SEARCH_LOG"' EXIT
start_moto "$PORT" "$MOTO_LOG"
start_search "$SEARCH_PORT" "$SEARCH_LOG"
aws_stand_in_env "$PORT"
log "starts and invocations ($(nproc) cores, $(uname -m)); date $(date -u +%F)"
"$TARGET_DIR/debug/coldstart-bench" "$TARGET_DIR/release" "${STARTS:-10}" "${WARM:-20}"
log "matching a new job against ${SAVED_SEARCHES:-10000} saved searches (${ALERT_JOBS:-20} jobs)"
"$TARGET_DIR/debug/alert-bench" "${SAVED_SEARCHES:-10000}" "${ALERT_JOBS:-20}" 2>/dev/null
log "DynamoDB calls per route of a seeker's session (counted by the SDK interceptor)"
cargo test -q -p integration-tests --test it costs:: -- --nocapture 2>/dev/null | grep '^|'
