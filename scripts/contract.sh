#!/usr/bin/env bash
# The contract run of `make test` (also alone: scripts/contract.sh): the whole platform as
# `make dev` serves it, on free loopback ports with its own stand-ins, seeded small; then
#  1. a Python client generated from docs/openapi.json (openapi-python-client, pinned)
#     drives a seeker's and an employer's journey (tests/contract/journeys.py);
#  2. schemathesis (pinned, tests/contract/) against /openapi.json for every route, as an
#     anonymous caller, a seeker, an employer and an admin: every check, every phase
#     (examples, coverage, fuzzing, stateful); any failure fails the run.
# CONTRACT_ONLY=schemathesis|client runs one part; CALLERS=seeker,admin picks callers;
# ST_ARGS adds schemathesis options.
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
setup_contract_tools
use_tools
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

log "contract: building the local gateway and the seed"
cargo build -q -p devstack --bin local-gateway --bin seed

WORK="$(mktemp -d)"
MOTO_PID="" SEARCH_PID="" GW_PID=""
stop_all() {
  for p in $GW_PID $MOTO_PID $SEARCH_PID; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap stop_all EXIT

MOTO_PORT="$(free_port)"
SEARCH_PORT="$(free_port)"
GW_PORT="$(free_port)"
start_moto "$MOTO_PORT" "$WORK/moto.log"
start_search "$SEARCH_PORT" "$WORK/search.log"
aws_stand_in_env "$MOTO_PORT"
BASE="http://127.0.0.1:$GW_PORT"
PORT="$GW_PORT" LOCAL_PREFIX=contract "$TARGET_DIR/debug/local-gateway" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
if ! wait_http "$BASE/health" 120; then
  log "contract: the gateway did not become ready; its log:"; tail -50 "$WORK/gateway.log" >&2; exit 1
fi

log "contract: seeding a handful of each resource"
LOCAL_PREFIX=contract "$TARGET_DIR/debug/seed" --url "$BASE" --small --json >"$WORK/accounts.json"

status=0
# The journeys first: schemathesis's admin may suspend or erase the seeded accounts.
if [ "${CONTRACT_ONLY:-client}" = client ] || [ -z "${CONTRACT_ONLY:-}" ]; then
  log "contract: generating a Python client from docs/openapi.json and driving the journeys"
  (cd "$WORK" && PATH="$CONTRACT_VENV/bin:$PATH" "$CONTRACT_VENV/bin/openapi-python-client" generate --path "$ROOT/docs/openapi.json" \
    --output-path "$WORK/client" --meta none >"$WORK/generate.log" 2>&1) || { cat "$WORK/generate.log" >&2; exit 1; }
  # A part of the document the generator cannot read is a part a client would lack.
  if grep -q "Warning" "$WORK/generate.log"; then
    log "contract: the client generator warned about docs/openapi.json:"; cat "$WORK/generate.log" >&2; exit 1
  fi
  PYTHONPATH="$WORK/client/.." "$CONTRACT_VENV/bin/python" tests/contract/journeys.py --url "$BASE" \
    --accounts "$WORK/accounts.json" --package client || status=1
fi
if [ "${CONTRACT_ONLY:-schemathesis}" = schemathesis ] || [ -z "${CONTRACT_ONLY:-}" ]; then
  log "contract: schemathesis against $BASE/openapi.json as ${CALLERS:-anonymous, seeker, employer, admin}"
  "$CONTRACT_VENV/bin/python" tests/contract/run.py --url "$BASE" --accounts "$WORK/accounts.json" \
    --reports "$WORK/reports" ${CALLERS:+--callers "$CALLERS"} ${ST_ARGS:+--extra "$ST_ARGS"} \
    || st=$?
  if [ "${st:-0}" != 0 ]; then
    status=$st
    mkdir -p "$CACHE/contract-reports" && cp -r "$WORK/reports/." "$WORK/gateway.log" "$CACHE/contract-reports/" 2>/dev/null || true
    log "contract: schemathesis failed; reports and the gateway log kept in $CACHE/contract-reports; its errors:"
    grep -E "ERROR|WARN" "$WORK/gateway.log" | tail -20 >&2
  fi
fi
exit "$status"
