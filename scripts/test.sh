#!/usr/bin/env bash
# make test: template lint, then every unit, integration and end-to-end test against a
# fresh AWS stand-in on a free loopback port (each test isolates its own resources).
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_tools
cd "$ROOT"

log "sam validate --lint"
sam validate --lint -t template.yaml

log "openapi-spec-validator docs/openapi.json"
openapi-spec-validator docs/openapi.json

log "building the tests"
if command -v cargo-nextest >/dev/null 2>&1; then RUNNER=(cargo nextest run --workspace); else RUNNER=(cargo test --workspace); fi
"${RUNNER[@]}" --no-run
# Two function binaries, run as Lambda runs them by a test (operations.rs: their metrics and
# logs on stdout); the libraries are the tests' own, so this is mostly linking.
cargo build -q -p platform -p notifications --bins

PORT="$(free_port)"
mkdir -p "$CACHE"
MOTO_LOG="$CACHE/moto-test-$PORT.log"
MOTO_PID=""
SEARCH_PID=""
SEARCH_PORT="$(free_port)"
SEARCH_LOG="$CACHE/search-test-$SEARCH_PORT.log"
trap '[ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null; [ -n "$SEARCH_PID" ] && kill "$SEARCH_PID" 2>/dev/null; rm -f "$MOTO_LOG" "$SEARCH_LOG"' EXIT
log "starting the AWS stand-in on 127.0.0.1:$PORT and the search stand-in on 127.0.0.1:$SEARCH_PORT"
start_moto "$PORT" "$MOTO_LOG"
start_search "$SEARCH_PORT" "$SEARCH_LOG"
aws_stand_in_env "$PORT"

log "running the tests"
"${RUNNER[@]}" --no-fail-fast

# The contract: schemathesis as four callers, and a generated client's journeys, against the
# whole platform as `make dev` serves it (its own stand-ins, free ports).
"$ROOT/scripts/contract.sh"
