# Shared helpers of the project's scripts. Source it: . scripts/lib.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${JOBPLAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobplat}"
# The venv is keyed by the pinned requirements, so a change of pins builds a new one.
REQ_HASH="$(cat "$ROOT/requirements.txt" "$ROOT/constraints.txt" | sha256sum | cut -c1-12)"
VENV="$CACHE/venv-$REQ_HASH"
# The contract tools (schemathesis, the client generator) live in a venv of their own.
CONTRACT_VENV="$CACHE/contract-venv-$(sha256sum <"$ROOT/requirements-contract.txt" | cut -c1-12)"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Ask the kernel for a free loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: until URL answers 2xx.
wait_http() {
  local url="$1" secs="${2:-30}" i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# start_moto PORT LOGFILE: starts the AWS stand-in on 127.0.0.1:PORT; sets MOTO_PID.
start_moto() {
  local port="$1" logfile="$2"
  # moto's server with DynamoDB operations serialised (scripts/moto_server.py says why)
  "$VENV/bin/python" "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 &
  MOTO_PID=$!
  if ! wait_http "http://127.0.0.1:$port/moto-api/data.json" 30; then
    log "moto did not start; its log:"; cat "$logfile" >&2
    kill "$MOTO_PID" 2>/dev/null || true
    return 1
  fi
}

# start_search PORT LOGFILE: starts the OpenSearch stand-in (osmem-server, pinned in
# requirements.txt) on 127.0.0.1:PORT and exports LOCAL_SEARCH_URL; sets SEARCH_PID.
# It exits with this shell (--parent-pid) even if a trap never runs.
start_search() {
  local port="$1" logfile="$2"
  local bin
  bin="$(echo "$VENV"/lib/python3*/site-packages/osmem_server/bin/osmem-server)"
  "$bin" --addr "127.0.0.1:$port" --no-stdin-watch --parent-pid $$ >"$logfile" 2>&1 &
  SEARCH_PID=$!
  if ! wait_http "http://127.0.0.1:$port/" 30; then
    log "the search stand-in did not start; its log:"; cat "$logfile" >&2
    kill "$SEARCH_PID" 2>/dev/null || true
    return 1
  fi
  export LOCAL_SEARCH_URL="http://127.0.0.1:$port"
}

aws_stand_in_env() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$1"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
}

use_tools() {
  export PATH="$VENV/bin:$PATH"
  export SAM_CLI_TELEMETRY=0
}

# setup_contract_tools: the contract venv (schemathesis, openapi-python-client), once.
setup_contract_tools() {
  if [ ! -f "$CONTRACT_VENV/.complete" ]; then
    log "creating the contract tools venv at $CONTRACT_VENV (schemathesis, openapi-python-client; ~30 s once)"
    rm -rf "$CONTRACT_VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$CONTRACT_VENV"
    "$CONTRACT_VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$ROOT/requirements-contract.txt"
    touch "$CONTRACT_VENV/.complete"
  fi
}
