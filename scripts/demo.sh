#!/usr/bin/env bash
# `make demo`: one full request -> approve -> attach -> status -> expire cycle on the
# embedded store and a local AWS emulator (moto_server), printing each step.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
log "building aws-jit"
cargo build --locked --quiet
BIN="$ROOT/target/debug/aws-jit"
start_moto

STATE=$(mktemp -d)
PIDS+=()
trap 'rm -rf "$STATE"; cleanup' EXIT
export JIT_STATE_DIR="$STATE"            # embedded store: no Redis needed
unset BACKEND_URL KUBIYA_JIT_WEBHOOK
export APPROVAL_LIST="boss@example.com"
# Records and their history are MACed with this key; `status` shows them verified.
export JIT_STATE_KEY=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))')

iam() { "$VENV/bin/python" - "$@" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=__import__("os").environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
cmd, user = sys.argv[1], sys.argv[2]
if cmd == "create-user":
    iam.create_user(UserName=user)
elif cmd == "attached":
    arns = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]
    print(", ".join(arns) if arns else "(none)")
PY
}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

iam create-user alice
echo "IAM user alice created in the emulator at $AWS_ENDPOINT_URL"

printf '\n\033[1m$ aws-jit request ...\033[0m\n'
ID=$("$BIN" request --requester alice@example.com --purpose "debug the ingest job" --ttl 5s \
      --iam-user alice --service s3 --actions GetObject,ListBucket \
      --resources "arn:aws:s3:::team-logs,arn:aws:s3:::team-logs/*" | head -n1)
echo "$ID"
printf '\n(alice may not approve her own request:)\n'
"$BIN" approve "$ID" --approver alice@example.com || echo "-> refused, exit $?"
step "$BIN" approve "$ID" --approver boss@example.com --comment "ok for the ingest fix"
step "$BIN" attach "$ID"
echo "policies attached to alice in AWS: $(iam attached alice)"
step "$BIN" status "$ID"
echo; echo "waiting for the 5s TTL to pass..."
sleep 6
step "$BIN" expire
echo "policies attached to alice in AWS: $(iam attached alice)"
step "$BIN" status
[ "$(iam attached alice)" = "(none)" ] && printf '\ndemo complete: access granted, then removed by expire\n'
