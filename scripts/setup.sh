#!/usr/bin/env bash
# Installs what the project needs beyond Rust, idempotently (fast when already done):
# - the mold linker (Debian package) used by .cargo/config.toml for host builds;
# - a Python venv with the pinned AWS stand-in (moto), SAM CLI and cargo-lambda.
. "$(dirname "$0")/lib.sh"

if ! command -v mold >/dev/null 2>&1; then
  log "installing the mold linker (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq mold >/dev/null
fi

if [ ! -x "$VENV/bin/moto_server" ] || [ ! -f "$VENV/.complete" ]; then
  log "creating the tools venv at $VENV (moto, SAM CLI, cargo-lambda; ~1-2 min once)"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt" -c "$ROOT/constraints.txt"
  touch "$VENV/.complete"
fi
