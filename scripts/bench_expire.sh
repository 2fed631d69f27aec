#!/usr/bin/env bash
# `make bench`, part 2: `expire` at scale, in one run, against real redis-server and
# moto_server with scripts/fault_proxy.py adding latency to every AWS call.
#   scripts/bench_expire.sh [BIN] [SEEDER]
# Prints:
#  - N grants seeded through the CLI (request, approve, attach), DUE of them due; one
#    `expire` run through the proxy at LATENCY ms per call: grants removed per second and
#    the ratio to the one-call-at-a-time bound (calls x latency / wall time); checks that
#    every due grant is gone from AWS and the store, and that no policy was deleted twice;
#  - `status` and `expire` (nothing due) at 1 and 10,000 grants (seeded straight into the
#    store by examples/bench_seed.rs through the same transitions and commits);
#  - peak memory (max RSS) of `expire` with 1,000 grants due.
# Settings: BENCH_GRANTS (1200), BENCH_DUE (400), BENCH_LATENCY_MS (50), BENCH_SEED_JOBS (4),
# BENCH_BIG (10000), BENCH_MEM_DUE (1000), JIT_EXPIRE_CONCURRENCY (8).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bin="${1:-$ROOT/target/release/aws-jit}"
seeder="${2:-$ROOT/target/release/examples/bench_seed}"
N="${BENCH_GRANTS:-1200}"
DUE="${BENCH_DUE:-400}"
LAT="${BENCH_LATENCY_MS:-50}"
JOBS="${BENCH_SEED_JOBS:-4}"
BIG="${BENCH_BIG:-10000}"
MEM_DUE="${BENCH_MEM_DUE:-1000}"
PY="$VENV/bin/python"
[ -x "$bin" ] || { echo "bench: no binary at $bin (cargo build --release)" >&2; exit 2; }
[ -x "$seeder" ] || { echo "bench: no seeder at $seeder (cargo build --release --example bench_seed)" >&2; exit 2; }

ensure_redis
ensure_venv
start_redis
start_moto
MOTO="$AWS_ENDPOINT_URL"

# The latency proxy in front of moto.
"$PY" scripts/fault_proxy.py http --upstream "$MOTO" --latency-ms "$LAT" >"$RUN_DIR/proxy.port" 2>"$RUN_DIR/proxy.log" &
PIDS+=($!)
for _ in $(seq 1 600); do [ -s "$RUN_DIR/proxy.port" ] && break; sleep 0.1; done
[ -s "$RUN_DIR/proxy.port" ] || { echo "bench: the latency proxy did not start; see $RUN_DIR/proxy.log" >&2; exit 1; }
PROXY="http://127.0.0.1:$(head -1 "$RUN_DIR/proxy.port")"
log "latency proxy ($LAT ms per call) on $PROXY"

export BACKEND_URL="$JIT_TEST_REDIS_URL" APPROVAL_LIST=boss@example.com
export JIT_STATE_DIR="$RUN_DIR/bench-state"
now_ms() { date +%s%3N; }

# IAM users to grant to (a real backlog spreads over people).
"$PY" - "$MOTO" <<'EOF'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
for i in range(20):
    try:
        iam.create_user(UserName=f"bench-user-{i}")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
EOF

# ---- expire at scale ----
export JIT_KEY_PREFIX="bench-scale-$$"
seed_one() {
  local ttl=$1 n=$2 id
  id=$("$bin" request --requester dev@example.com --purpose "bench backlog" --ttl "$ttl" \
        --iam-user "bench-user-$((n % 20))" --service s3 --actions GetObject \
        --resources 'arn:aws:s3:::bench-logs/*' | head -1)
  "$bin" approve "$id" --approver boss@example.com >/dev/null
  "$bin" attach "$id" >/dev/null
}
export -f seed_one
export bin
log "seeding $N grants through the CLI ($DUE due within 2h), $JOBS at a time"
t0=$(now_ms)
seq 1 "$DUE" | xargs -P "$JOBS" -I{} bash -c 'seed_one 1h {}'
seq "$((DUE + 1))" "$N" | xargs -P "$JOBS" -I{} bash -c 'seed_one 8h {}'
seed_s=$(( ($(now_ms) - t0) / 1000 ))
at=$("$PY" -c 'import datetime as d; print((d.datetime.now(d.timezone.utc)+d.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')

log "one expire run through the proxy (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
t0=$(now_ms)
AWS_ENDPOINT_URL="$PROXY" "$bin" expire --at "$at" --output json >"$RUN_DIR/expire.json" || true
wall_ms=$(( $(now_ms) - t0 ))
"$PY" - "$RUN_DIR/expire.json" "$PROXY" "$MOTO" "$N" "$DUE" "$LAT" "$wall_ms" "$seed_s" "${JIT_EXPIRE_CONCURRENCY:-8}" <<'EOF'
import collections, json, sys, urllib.request, boto3
rep_file, proxy, moto, n, due, lat, wall_ms, seed_s, conc = sys.argv[1:]
n, due, lat, wall_ms = int(n), int(due), float(lat), int(wall_ms)
rep = json.load(open(rep_file))
calls = json.load(urllib.request.urlopen(proxy + "/__proxy/log"))
deleted = collections.Counter(c["arg"] for c in calls if c["op"] == "DeletePolicy")
iam = boto3.client("iam", endpoint_url=moto, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
left = sum(len(p["Policies"]) for p in iam.get_paginator("list_policies").paginate(Scope="Local", PathPrefix="/jit/"))
removed = len(rep.get("expired", []))
wall = wall_ms / 1000
bound = len(calls) * lat / 1000
print()
print(f"expire at scale: {n} grants seeded through the CLI in {seed_s} s, {due} due")
print(f"  one run, JIT_EXPIRE_CONCURRENCY={conc}, AWS at {lat:.0f} ms per call: {removed} removed in {wall:.2f} s "
      f"= {removed / wall:.1f} grants/s; {len(calls)} AWS calls ({len(calls) / max(removed, 1):.1f} per grant)")
print(f"  one-call-at-a-time bound: {len(calls)} x {lat:.0f} ms = {bound:.1f} s -> {bound / wall:.1f}x faster than the bound")
print(f"  failed {len(rep.get('failed', []))}, skipped {len(rep.get('skipped', []))}, remaining {rep.get('remaining')}, "
      f"throttled {rep.get('throttled')}; tracked before the run: {rep.get('tracked')}")
twice = [a for a, k in deleted.items() if k > 1]
ok = removed == due and not rep.get("failed") and left == n - due and not twice and len(deleted) == due
print(f"  check: {left} /jit/ policies left (want {n - due}), {len(deleted)} deleted once each, "
      f"{len(twice)} deleted twice -> {'OK' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
EOF

# ---- status and expire with nothing due, at 1 and BIG grants ----
time_cmd() {  # median ms of a command over runs (hyperfine when present)
  local runs=20
  if command -v hyperfine >/dev/null; then
    local out; out=$(mktemp)
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$out" "$*" >/dev/null 2>&1
    "$PY" -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$out"
    rm -f "$out"
  else
    local s e; s=$(now_ms); for _ in $(seq "$runs"); do "$@" >/dev/null; done; e=$(now_ms)
    awk -v t=$((e - s)) -v r="$runs" 'BEGIN { printf "%.1f", t / r }'
  fi
}
log "seeding 1 and $BIG not-yet-due grants straight into the store"
"$seeder" "$JIT_TEST_REDIS_URL" "bench-one-$$" 1 7200 bench-user-0
"$seeder" "$JIT_TEST_REDIS_URL" "bench-big-$$" "$BIG" 7200 bench-user-0
declare -A T
for p in one big; do
  export JIT_KEY_PREFIX="bench-$p-$$"
  T[status_$p]=$(time_cmd "$bin" status)
  T[expire_$p]=$(time_cmd "$bin" expire)
done
tracked_big=$(JIT_KEY_PREFIX="bench-big-$$" "$bin" expire --output json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tracked"])')
echo
echo "cost with nothing due (median of 20 runs, a fresh process each; mean without hyperfine):"
echo "  status (list of 50): ${T[status_one]} ms at 1 grant, ${T[status_big]} ms at $tracked_big grants"
echo "  expire (nothing due): ${T[expire_one]} ms at 1 grant, ${T[expire_big]} ms at $tracked_big grants"

# ---- peak memory of expire with MEM_DUE due ----
export JIT_KEY_PREFIX="bench-mem-$$"
"$seeder" "$JIT_TEST_REDIS_URL" "$JIT_KEY_PREFIX" "$MEM_DUE" -60 bench-user-0
t0=$(now_ms)
rss_kb=$("$PY" -c 'import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$bin" expire)
mem_s=$(( ($(now_ms) - t0) / 1000 ))
left=$("$bin" expire --output json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tracked"])')
echo
echo "expire with $MEM_DUE due (moto direct): peak RSS $((rss_kb / 1024)) MiB, ${mem_s} s; tracked afterwards: $left"
