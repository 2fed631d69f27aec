#!/usr/bin/env bash
# `make test`: install what the tests need, start real servers, run every test.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_redis
ensure_venv
start_redis
start_moto
log "cargo test"
cargo test --locked --all-targets -- --test-threads "${TEST_THREADS:-4}"
if [ -d tests/tool_defs ]; then
  log "tool_defs tests (kubiya-sdk)"
  AWS_JIT_BIN="$ROOT/target/debug/aws-jit" "$VENV/bin/python" -m pytest -q tests/tool_defs
fi
