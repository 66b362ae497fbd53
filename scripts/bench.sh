#!/usr/bin/env bash
# make bench: release builds of every function binary (host architecture), then size and
# cold start (exec -> first Runtime API poll, median and p95 of 25 starts) per function.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
log "release build of the functions ($(uname -m))"
cargo build --release -q -p auth -p platform -p notifications -p companies -p categories -p profiles -p admin -p jobs -p files -p privacy -p applications
cargo build -q -p devstack --bin coldstart-bench
log "cold starts ($(nproc) cores, $(uname -m)); date $(date -u +%F)"
"$TARGET_DIR/debug/coldstart-bench" "$TARGET_DIR/release" "${RUNS:-25}"
