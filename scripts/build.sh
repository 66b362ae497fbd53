#!/usr/bin/env bash
# make build: release arm64 bootstraps with cargo-lambda (zig from its venv), one folder per
# crate binary under target/lambda/<binary>/bootstrap (it serves every function of its crate;
# the function's Handler picks one), as SAM's rust-cargolambda builder does.
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_tools
cd "$ROOT"
if ! rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu; then
  log "adding the aarch64 Rust target"
  rustup target add aarch64-unknown-linux-gnu
fi
log "cargo lambda build --release --arm64"
cargo lambda build --release --arm64 -p auth -p platform -p notifications -p companies -p categories -p profiles -p admin -p jobs -p files -p privacy -p applications -p search -p analytics
ls -la "${CARGO_TARGET_DIR:-$ROOT/target}/lambda"/*/bootstrap
