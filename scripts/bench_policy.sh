#!/usr/bin/env bash
# `make bench`: time aws-jit's generate+validate against policy_sentry on the same inputs,
# in the same run, and print both figures and the ratio.
#   scripts/bench_policy.sh [BIN] [PYTHON]
#   BIN     the aws-jit binary (default target/release/aws-jit)
#   PYTHON  a python with policy-sentry==0.15.2 (default .venv/bin/python)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-target/release/aws-jit}"
py="${2:-.venv/bin/python}"
[ -x "$bin" ] || { echo "bench: no binary at $bin (cargo build --release)" >&2; exit 2; }
"$py" -c 'import policy_sentry' 2>/dev/null || { echo "bench: $py cannot import policy_sentry (pip install policy-sentry==0.15.2)" >&2; exit 2; }
n_inputs=$(grep -vc '^#' "$here/bench_policy_inputs.txt")
runs="${BENCH_RUNS:-20}"

# Correctness first: every generated policy must validate without blocking findings.
grep -v '^#' "$here/bench_policy_inputs.txt" | while IFS='|' read -r service access resources; do
  "$bin" policy generate --generator rules --service "$service" --access "$access" --resources "$resources" >/dev/null \
    || { echo "bench: aws-jit failed on $service|$access|$resources" >&2; exit 1; }
done

rust_cmd="bash $here/bench_policy_run.sh rust $bin"
sentry_cmd="bash $here/bench_policy_run.sh sentry $py"
if command -v hyperfine >/dev/null; then
  out="$(mktemp)"
  hyperfine --warmup 3 --runs "$runs" --export-json "$out" -n aws-jit "$rust_cmd" -n policy_sentry "$sentry_cmd" >&2
  read -r rust_ms sentry_ms < <("$py" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(*("%.1f" % (x["mean"]*1000) for x in r))' "$out")
  rm -f "$out"
else
  t() { local s e; s=$(date +%s%N); for _ in $(seq "$runs"); do eval "$1" >/dev/null; done; e=$(date +%s%N); echo "scale=1; ($e-$s)/1000000/$runs" | bc; }
  rust_ms=$(t "$rust_cmd"); sentry_ms=$(t "$sentry_cmd")
fi
warm_ms=$("$py" "$here/bench_policy_sentry.py" "$here/bench_policy_inputs.txt" --warm 20)
ratio=$(awk -v a="$sentry_ms" -v b="$rust_ms" 'BEGIN { printf "%.1f", a / b }')
per_input=$(awk -v a="$rust_ms" -v n="$n_inputs" 'BEGIN { printf "%.2f", a / n }')
echo
echo "inputs: $n_inputs (scripts/bench_policy_inputs.txt), runs: $runs"
echo "aws-jit generate+validate : ${rust_ms} ms for all inputs (${per_input} ms per input, a fresh process each)"
echo "policy_sentry CRUD write  : ${sentry_ms} ms for all inputs (one python process, import included)"
echo "policy_sentry warm        : ${warm_ms} ms per input after import (no validation)"
echo "ratio (policy_sentry / aws-jit): ${ratio}x"

# Plain-language accuracy: the share of tests/data/nl_cases.toml the rules get exactly.
exact="$(cd "$here/.." && cargo test --locked --test nl_cases -- --nocapture 2>/dev/null | grep '^nl_cases exact' || true)"
echo "${exact:-nl_cases exact: (the nl_cases test did not run)}"
