#!/usr/bin/env bash
# One side of `make bench`: every input of bench_policy_inputs.txt through one tool.
#   bench_policy_run.sh rust BIN      aws-jit policy generate (which also validates), one process per input
#   bench_policy_run.sh sentry PYTHON policy_sentry, one process for all inputs
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
inputs="$here/bench_policy_inputs.txt"
case "$1" in
  rust)
    grep -v '^#' "$inputs" | while IFS='|' read -r service access resources; do
      "$2" policy generate --generator rules --service "$service" --access "$access" \
        --resources "$resources" >/dev/null
    done ;;
  sentry)
    "$2" "$here/bench_policy_sentry.py" "$inputs" ;;
  *) echo "usage: $0 rust BIN | sentry PYTHON" >&2; exit 2 ;;
esac
