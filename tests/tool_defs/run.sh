#!/bin/sh
# Entry point for `make test`: the Kubiya tool definition tests.
#   tests/tool_defs/run.sh [pytest args...]
# Needs the built binary (AWS_JIT_BIN, default target/debug/aws-jit); the tests
# fail, never skip, when it is missing.
set -eu
cd "$(dirname "$0")/../.."

PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv .venv
fi
if ! "$PY" - <<'PYEOF' >/dev/null 2>&1
import importlib.metadata as m
assert m.version("kubiya-sdk") == "2.1.6"
import kubiya.tools, pytest
PYEOF
then
  "$PY" -m pip install --quiet -r tests/tool_defs/requirements.txt
fi

# keep the tree clean: no __pycache__ in tool_defs/, no .pytest_cache
export PYTHONDONTWRITEBYTECODE=1
exec "$PY" -m pytest -q -p no:cacheprovider tests/tool_defs "$@"
