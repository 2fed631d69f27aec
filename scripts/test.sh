#!/usr/bin/env bash
# `make test`: install what the tests need, start real servers, run every test.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_redis
ensure_venv
export JIT_TEST_PYTHON="$VENV/bin/python"  # parliament + cloudsplaining for tests/policy_differential.rs
start_redis
start_moto
log "cargo test"
cargo test --locked --all-targets -- --test-threads "${TEST_THREADS:-4}"
log "tool_defs tests (kubiya-sdk, against the built binary)"
AWS_JIT_BIN="$ROOT/target/debug/aws-jit" bash tests/tool_defs/run.sh
