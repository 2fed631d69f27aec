#!/usr/bin/env bash
# Entry point for `make test`: the Kubiya tool definition tests.
#   tests/tool_defs/run.sh [pytest args...]
# Needs the built binary (AWS_JIT_BIN, default target/debug/aws-jit); the tests
# fail, never skip, when it is missing. Python packages come from the one venv that
# scripts/lib.sh makes from requirements-dev.txt.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
ensure_venv

# keep the tree clean: no __pycache__ in tool_defs/, no .pytest_cache
export PYTHONDONTWRITEBYTECODE=1
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/tool_defs "$@"
