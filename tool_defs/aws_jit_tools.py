"""Kubiya teammate tools for aws-jit.

Point a Kubiya *source* at this folder (``tool_defs/``).  Kubiya imports every
``*.py`` file here with the published ``kubiya-sdk``; this module registers one
``docker`` tool per user-facing step with ``kubiya.tools.registry.tool_registry``.
Each tool call starts a container that runs exactly one ``aws-jit`` subcommand.

How an argument reaches the binary
----------------------------------
Kubiya exports every tool argument into the tool's container as an environment
variable with the argument's name (``purpose``, ``ttl``, ``request_id``, ...).
The scripts below read those variables and nothing else: they contain no
``{{ .arg }}`` placeholders, so no argument text is ever pasted into shell
source.  Each value is appended to the argv as a single word
(``"--purpose=$purpose"``, or ``-- "$request_id"`` for the request ID), so a
value such as ``x"; rm -rf / #``, ``$(id)`` or ``--approver=evil`` reaches
``aws-jit`` as exactly that string and runs nothing.  The scripts are POSIX
``sh`` (tested with bash and dash), so the image needs no bash.

Identity is never an argument: ``aws-jit`` takes the requester / approver /
revoker from ``KUBIYA_USER_EMAIL``, which Kubiya sets to the person who invoked
the tool, so a user cannot approve "as" someone else by asking the model to.

How the binary reaches the container (documented settings)
----------------------------------------------------------
Each setting is read, in this order, from the source's *dynamic config*
(``kubiya source add --config FILE``, Terraform ``dynamic_config``), then from the environment of the
process that loads this folder, then the default:

``AWS_JIT_IMAGE``
    Container image for every tool.  Default ``aws-jit:latest`` (an image with
    ``aws-jit`` on ``PATH``); ``alpine:3.20`` when a download URL is set.
``AWS_JIT_BINARY_URL`` + ``AWS_JIT_BINARY_SHA256``
    Optional.  When a URL is set, the script downloads the binary (``curl`` or
    ``wget``), checks its SHA-256 against the pinned value and refuses to run
    anything that does not match.  If not set here, both are passed through
    from the teammate's environment, so they can also be set there.
``AWS_JIT_SECRETS``
    Comma-separated Kubiya secret names to mount, replacing the default list
    (e.g. drop the AWS key secrets when the runner has an AWS integration).

See docs/kubiya.md for the deployment walk-through.
"""

import os
import re

from kubiya.tools.models import Arg, Tool
from kubiya.tools.registry import tool_registry

DEFAULT_IMAGE = "aws-jit:latest"
DEFAULT_DOWNLOAD_IMAGE = "alpine:3.20"
ICON_URL = "https://img.icons8.com/color/200/amazon-web-services.png"

# Plain configuration the binary reads; passed through from the teammate.
ENV = [
    "BACKEND_URL",
    "BACKEND_PORT",
    "BACKEND_DB",
    "BACKEND_USER",
    "BACKEND_TLS",
    "BACKEND_TLS_CA",
    "KUBIYA_JIT_WEBHOOK",
    "APPROVAL_SLACK_CHANNEL",
    "APPROVAL_LIST",
    "KUBIYA_USER_EMAIL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    # optional policy knobs (names the binary reads; unset means its defaults)
    "JIT_DEFAULT_TTL",
    "JIT_MAX_DURATION",
    "POLICY_TTL",
    "MAX_DURATION",
    "ALLOWED_SERVICES",
    "JIT_APPROVAL_QUORUM",
    "JIT_PENDING_TIMEOUT",
    "JIT_ACCOUNT_ID",
    "JIT_KEY_PREFIX",
    "JIT_LEASE",
    "JIT_EXPIRE_CONCURRENCY",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    # policy generation with a model (HF_TOKEN is a secret, below)
    "JIT_MODEL_URL",
    "JIT_MODEL",
    # IAM Identity Center (optional: found with ListInstances otherwise)
    "SSO_INSTANCE_ARN",
    "IDENTITY_STORE_ID",
    # only for a persistent volume instead of Redis (see docs/kubiya.md)
    "JIT_STATE_DIR",
    # access rules (JIT_RULES: the rules TOML inline) and reminders
    "JIT_RULES_FILE",
    "JIT_RULES",
    "JIT_REMIND_AFTER",
    "JIT_WARN_BEFORE",
]

# Never plain env: mounted from Kubiya's secret store.
DEFAULT_SECRETS = [
    "BACKEND_PASS",
    # authenticates every stored record: every tool and the scheduled tasks need the same one
    "JIT_STATE_KEY",
    "HF_TOKEN",
    "JIT_WEBHOOK_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_FLAG_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_URL_RE = re.compile(r"^(https|http|file)://\S+$")
_SECRET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------
def _setting(key):
    """Dynamic config (exact or lower-case key), then env, else ''."""
    cfg = getattr(tool_registry, "dynamic_config", None)
    if isinstance(cfg, dict):
        for k in (key, key.lower()):
            value = cfg.get(k)
            if value not in (None, ""):
                return str(value).strip()
    return os.environ.get(key, "").strip()


def delivery_settings():
    """Resolve the binary-delivery settings; raise ValueError when invalid."""
    url = _setting("AWS_JIT_BINARY_URL")
    sha = _setting("AWS_JIT_BINARY_SHA256")
    if url and not _URL_RE.match(url):
        raise ValueError("AWS_JIT_BINARY_URL must be an https://, http:// or file:// URL without spaces")
    if url and not _SHA256_RE.match(sha):
        raise ValueError("AWS_JIT_BINARY_SHA256 must be the 64-hex-digit SHA-256 of the binary when AWS_JIT_BINARY_URL is set")
    if sha and not _SHA256_RE.match(sha):
        raise ValueError("AWS_JIT_BINARY_SHA256 must be 64 hex digits")
    image = _setting("AWS_JIT_IMAGE") or (DEFAULT_DOWNLOAD_IMAGE if url else DEFAULT_IMAGE)
    if any(c.isspace() for c in image):
        raise ValueError("AWS_JIT_IMAGE must not contain whitespace")
    secrets_setting = _setting("AWS_JIT_SECRETS")
    if secrets_setting:
        secrets = [s.strip() for s in secrets_setting.split(",") if s.strip()]
    else:
        secrets = list(DEFAULT_SECRETS)
    for s in secrets:
        if not _SECRET_RE.match(s):
            raise ValueError(f"AWS_JIT_SECRETS: invalid secret name {s!r}")
    # Fixed at load time -> baked in as KEY=VALUE; otherwise passed through.
    env = list(ENV)
    env.append(f"AWS_JIT_BINARY_URL={url}" if url else "AWS_JIT_BINARY_URL")
    env.append(f"AWS_JIT_BINARY_SHA256={sha.lower()}" if sha else "AWS_JIT_BINARY_SHA256")
    return {"image": image, "env": env, "secrets": secrets, "url": url, "sha256": sha.lower()}


# --------------------------------------------------------------------------
# argument specs: Kubiya argument  ->  aws-jit flag / positional
# --------------------------------------------------------------------------
class Spec:
    """One tool argument and where it goes on the aws-jit command line.

    kind: "value"  -> "--<flag>=<value>" (omitted when empty, unless required)
          "switch" -> "--<flag>" when the value is true/yes/1
          "positional" -> "-- <value>" at the end of the argv
    """

    def __init__(self, name, description, kind="value", flag=None, positional=None,
                 required=False, options=None, default=None):
        if not _NAME_RE.match(name):
            raise ValueError(f"argument name {name!r} is not a safe shell identifier")
        if kind in ("value", "switch") and not (flag and _FLAG_RE.match(flag)):
            raise ValueError(f"argument {name!r}: bad flag {flag!r}")
        if kind == "positional" and not positional:
            raise ValueError(f"argument {name!r}: positional name missing")
        if kind not in ("value", "switch", "positional"):
            raise ValueError(f"argument {name!r}: unknown kind {kind!r}")
        self.name = name
        self.description = description
        self.kind = kind
        self.flag = flag
        self.positional = positional
        self.required = required
        self.options = options
        self.default = default

    def arg(self):
        options = self.options
        default = self.default
        if self.kind == "switch":
            options = ["true", "false"]
            default = "false"
        return Arg(name=self.name, description=self.description, required=self.required,
                   options=options, default=default)

    def mapping(self):
        if self.kind == "positional":
            return {"kind": "positional", "positional": self.positional}
        return {"kind": self.kind, "flag": self.flag}


def _request_id(required=True, what="the request"):
    return Spec("request_id", f"ID of {what}, as shown by aws_jit_request_access or aws_jit_status (e.g. jit-7f3a2c).",
                kind="positional", positional="ID", required=required)


STATES = ["pending", "approved", "attaching", "active", "removing", "expired", "revoked",
          "rejected", "cancelled", "timed_out"]

TOOLS = [
    {
        "name": "aws_jit_request_access",
        "subcommand": "request",
        "description": (
            "Request temporary, least-privilege AWS access. Give a purpose, one target "
            "(iam_user, iam_role, or sso_user with account_id) and one way to define the policy: "
            "policy_description in plain language, service + actions (or access) + resources, or "
            "an existing Identity Center permission_set_name. The request is stored as pending and "
            "approvers are notified; the requester is the calling user."
        ),
        "args": [
            Spec("purpose", "Why the access is needed (shown to approvers and kept in the audit log).",
                 flag="purpose", required=True),
            Spec("ttl", "How long the access should last, e.g. 30m, 1h, 8h (default from policy_ttl; capped by max_duration).",
                 flag="ttl"),
            Spec("iam_user", "Target: name of the IAM user to grant the policy to.", flag="iam-user"),
            Spec("iam_role", "Target: name of the IAM role to grant the policy to.", flag="iam-role"),
            Spec("sso_user", "Target: IAM Identity Center user name (use with account_id).", flag="sso-user"),
            Spec("account_id", "12-digit AWS account ID (required with sso_user).", flag="account-id"),
            Spec("policy_description",
                 "Plain-language description of the access needed, e.g. 'read objects in bucket reports-prod'; "
                 "a least-privilege policy is generated from it.", flag="policy-description"),
            Spec("permission_set_name",
                 "Name of an existing IAM Identity Center permission set to assign (only with sso_user).",
                 flag="permission-set"),
            Spec("service", "Service prefix for an explicit policy, e.g. s3, ec2, dynamodb (use with actions or access, and resources).",
                 flag="service"),
            Spec("actions", "Comma-separated actions without the service prefix, e.g. GetObject,ListBucket.",
                 flag="actions"),
            Spec("access", "Comma-separated access levels instead of actions, e.g. read,list.", flag="access"),
            Spec("resources", "Comma-separated resource ARNs the policy is limited to.", flag="resources"),
            Spec("policy_name", "Name for the generated policy (default chosen by aws-jit).", flag="policy-name"),
            Spec("generator", "How policy_description is turned into a policy: rules, model, or auto (default).",
                 flag="generator", options=["rules", "model", "auto"]),
            Spec("region", "AWS region to scope the policy to, if different from the default.", flag="region"),
            Spec("break_glass",
                 "true only in an emergency: approve your own request at once, under an access rule that "
                 "allows break-glass. Everyone is notified immediately and the rule's approvers review it "
                 "afterwards. Needs incident.", kind="switch", flag="break-glass"),
            Spec("incident", "The emergency that needs break-glass (announced and kept in the audit log).",
                 flag="reason"),
        ],
    },
    {
        "name": "aws_jit_approve",
        "subcommand": "approve",
        "description": (
            "Approve a pending AWS access request, or the pending extension of an active grant. The "
            "approver is the calling user, who must be among the request's approvers (those of the access "
            "rule it was made under, or APPROVAL_LIST) and never the requester nor the person who receives "
            "the access; with a quorum, several approvals are needed."
        ),
        "args": [
            _request_id(what="the request to approve"),
            Spec("comment", "Optional note recorded with the approval.", flag="comment"),
            Spec("acknowledge_findings",
                 "The security finding codes the approver accepts, comma-separated, exactly as the approver "
                 "named them after reading them in aws_jit_status (e.g. passrole-escalation,resource-star). "
                 "Every security finding of the request must be named; leave empty when it has none.",
                 flag="acknowledge-findings"),
        ],
    },
    {
        "name": "aws_jit_reject",
        "subcommand": "reject",
        "description": (
            "Reject a pending AWS access request, or the pending extension of an active grant. The "
            "approver is the calling user; a reason is required."
        ),
        "args": [
            _request_id(what="the request to reject"),
            Spec("reason", "Why the request is rejected (sent to the requester).", flag="reason", required=True),
        ],
    },
    {
        "name": "aws_jit_attach",
        "subcommand": "attach",
        "description": (
            "Make an approved request's access real in AWS (attach the exact policy that was approved). "
            "Safe to retry."
        ),
        "args": [_request_id(what="the approved request")],
    },
    {
        "name": "aws_jit_status",
        "subcommand": "status",
        "description": (
            "Show one access request with its timeline (give request_id), or list requests, "
            "optionally filtered by state and requester."
        ),
        "args": [
            _request_id(required=False, what="one request to show (omit to list)"),
            Spec("state", "List only requests in this state.", flag="state", options=STATES),
            Spec("requester", "List only requests made by this email address.", flag="requester"),
            Spec("limit", "List at most this many requests (newest first).", flag="limit"),
            Spec("unreviewed", "true to list only break-glass requests still waiting for their review.",
                 kind="switch", flag="unreviewed"),
        ],
    },
    {
        "name": "aws_jit_revoke",
        "subcommand": "revoke",
        "description": "Remove active AWS access before it expires. The revoker is the calling user; a reason is required.",
        "args": [
            _request_id(what="the request whose access to revoke"),
            Spec("reason", "Why the access is revoked early (kept in the audit log).", flag="reason", required=True),
        ],
    },
    {
        "name": "aws_jit_cancel",
        "subcommand": "cancel",
        "description": "Withdraw your own AWS access request before it is decided.",
        "args": [_request_id(what="your pending request")],
    },
    {
        "name": "aws_jit_expire",
        "subcommand": "expire",
        "description": (
            "Scheduled housekeeping: remove every grant whose time is up, time out stale pending "
            "requests, retry failed removals and deliver queued notifications. Run every minute."
        ),
        # No `at` here on purpose: `--at` treats another instant as now, so from the chat
        # anyone could end every grant early. It stays a flag for admins and tests.
        "args": [
            Spec("dry_run", "true to report what would be removed without changing anything.",
                 kind="switch", flag="dry-run"),
        ],
    },
    {
        "name": "aws_jit_reconcile",
        "subcommand": "reconcile",
        "description": (
            "Scheduled backstop: compare AWS with the store, remove what aws-jit made that no "
            "live grant tracks (older than 10 minutes), report drift of active grants. Run hourly."
        ),
        # No arguments at all, on purpose: from the chat, `--older-than 0s` would let anyone
        # remove what an attach in flight just made. Admins run it by hand for other settings.
        "args": [],
    },
    {
        "name": "aws_jit_extend",
        "subcommand": "extend",
        "description": (
            "Ask for more time on an active grant. Only its requester or the person who received the "
            "access can ask, within the extension budget and maximum TTL of the access rule it was "
            "granted under. Under an auto rule it is extended at once; otherwise the rule's approvers "
            "approve it with aws_jit_approve (or reject it with aws_jit_reject)."
        ),
        "args": [
            _request_id(what="the active grant"),
            Spec("ttl", "How much longer, e.g. 30m or 1h (added to the current expiry).", flag="ttl",
                 required=True),
            Spec("reason", "Why more time is needed (shown to approvers, kept in the audit log).",
                 flag="reason", required=True),
        ],
    },
    {
        "name": "aws_jit_review",
        "subcommand": "review",
        "description": (
            "Review a break-glass grant after the fact. The reviewer is the calling user, who must be "
            "one of the approvers of the access rule it was granted under, and never its requester."
        ),
        "args": [
            _request_id(what="the break-glass request"),
            Spec("comment", "What the review found: was break-glass justified, what was done.",
                 flag="comment", required=True),
        ],
    },
    {
        "name": "aws_jit_rules_explain",
        "subcommand": "rules explain",
        "description": (
            "Explain, before asking, which access rule would decide a request for the calling user: "
            "its approvers, quorum, maximum TTL, whether it would be approved automatically, and why "
            "each earlier rule does not match. Takes the same target and policy arguments as "
            "aws_jit_request_access; stores nothing."
        ),
        "args": [
            Spec("ttl", "How long the access should last, e.g. 30m, 1h.", flag="ttl"),
            Spec("iam_user", "Target: name of the IAM user.", flag="iam-user"),
            Spec("iam_role", "Target: name of the IAM role.", flag="iam-role"),
            Spec("sso_user", "Target: IAM Identity Center user name (use with account_id).", flag="sso-user"),
            Spec("account_id", "12-digit AWS account ID (required with sso_user).", flag="account-id"),
            Spec("policy_description", "Plain-language description of the access needed.",
                 flag="policy-description"),
            Spec("permission_set_name", "Name of an existing IAM Identity Center permission set (with sso_user).",
                 flag="permission-set"),
            Spec("service", "Service prefix for an explicit policy, e.g. s3 (with actions or access, and resources).",
                 flag="service"),
            Spec("actions", "Comma-separated actions without the service prefix, e.g. GetObject,ListBucket.",
                 flag="actions"),
            Spec("access", "Comma-separated access levels instead of actions, e.g. read,list.", flag="access"),
            Spec("resources", "Comma-separated resource ARNs the policy is limited to.", flag="resources"),
            Spec("generator", "How policy_description is turned into a policy: rules, model, or auto (default).",
                 flag="generator", options=["rules", "model", "auto"]),
            Spec("region", "AWS region to scope the policy to, if different from the default.", flag="region"),
            Spec("break_glass", "true to explain a break-glass request instead.", kind="switch",
                 flag="break-glass"),
        ],
    },
]


# --------------------------------------------------------------------------
# script generation (POSIX sh; argument values only ever come from env)
# --------------------------------------------------------------------------
_PRELUDE = r"""#!/bin/sh
# Kubiya tool __TOOL__: runs `aws-jit __SUB__` once.
# Argument values arrive only as environment variables named after the
# arguments. This script never evaluates them and holds no template
# placeholders: each value becomes ONE argv word ("--flag=$value").
set -eu

_aj_die() { _aj_rc=$1; shift; printf 'aws-jit tool: %s\n' "$*" >&2; exit "$_aj_rc"; }
_aj_require() { [ -n "$2" ] || _aj_die 2 "argument '$1' is required"; }
_aj_true() {
  case "$2" in
    [Tt][Rr][Uu][Ee]|[Yy][Ee][Ss]|1) return 0 ;;
    [Ff][Aa][Ll][Ss][Ee]|[Nn][Oo]|0|'') return 1 ;;
    *) _aj_die 2 "argument '$1' must be true or false" ;;
  esac
}

# Each tool call is a fresh container: without a shared store (Redis at
# BACKEND_URL, or a persistent JIT_STATE_DIR) requests and grant expiries
# would vanish with the container.
if [ -z "${BACKEND_URL:-}" ] && [ -z "${JIT_STATE_DIR:-}" ]; then
  _aj_die 2 "BACKEND_URL is not set: set it (with the BACKEND_PASS secret) on the teammate so state survives between tool calls"
fi
# A teammate variable declared but left empty is "not set" here; aws-jit itself refuses a
# set-but-empty BACKEND_URL, so the embedded store in JIT_STATE_DIR is chosen explicitly.
if [ -z "${BACKEND_URL:-}" ]; then unset BACKEND_URL; fi

# ---- locate the binary: image PATH, or pinned download -------------------
_aj_bin=aws-jit
if [ -n "${AWS_JIT_BINARY_URL:-}" ]; then
  _aj_url=$AWS_JIT_BINARY_URL
  _aj_want=$(printf '%s' "${AWS_JIT_BINARY_SHA256:-}" | tr 'A-F' 'a-f')
  case "$_aj_url" in
    https://*|http://*|file://*) ;;
    *) _aj_die 2 "AWS_JIT_BINARY_URL must be an https://, http:// or file:// URL" ;;
  esac
  case "$_aj_want" in
    *[!0-9a-f]*|'') _aj_die 2 "AWS_JIT_BINARY_SHA256 must be set to the binary's 64-hex-digit SHA-256 when AWS_JIT_BINARY_URL is used" ;;
  esac
  [ "${#_aj_want}" -eq 64 ] || _aj_die 2 "AWS_JIT_BINARY_SHA256 must be 64 hex digits"
  _aj_dir=$(mktemp -d "${TMPDIR:-/tmp}/aws-jit.XXXXXX")
  _aj_bin=$_aj_dir/aws-jit
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$_aj_bin" "$_aj_url" || _aj_die 4 "could not download AWS_JIT_BINARY_URL"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$_aj_bin" "$_aj_url" || _aj_die 4 "could not download AWS_JIT_BINARY_URL"
  else
    _aj_die 4 "AWS_JIT_BINARY_URL is set but the image has neither curl nor wget"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    _aj_got=$(sha256sum "$_aj_bin" | cut -d ' ' -f 1)
  elif command -v shasum >/dev/null 2>&1; then
    _aj_got=$(shasum -a 256 "$_aj_bin" | cut -d ' ' -f 1)
  else
    _aj_die 4 "AWS_JIT_BINARY_URL is set but the image has neither sha256sum nor shasum"
  fi
  if [ "$_aj_got" != "$_aj_want" ]; then
    rm -f "$_aj_bin"
    _aj_die 3 "SHA-256 mismatch for AWS_JIT_BINARY_URL (expected $_aj_want, got $_aj_got); refusing to run it"
  fi
  chmod 0755 "$_aj_bin"
elif ! command -v aws-jit >/dev/null 2>&1; then
  _aj_die 127 "aws-jit is not on PATH in this image; set AWS_JIT_IMAGE to an image that has it, or AWS_JIT_BINARY_URL and AWS_JIT_BINARY_SHA256"
fi

# ---- build the argv -------------------------------------------------------
"""


def build_script(tool_name, subcommand, specs):
    """The tool's `content`: static shell text, no argument value inside.

    `subcommand` is one word, or a nested one written with spaces ("rules explain")."""
    words = subcommand.split(" ")
    if not words or not all(_FLAG_RE.match(w) for w in words):
        raise ValueError(f"bad subcommand {subcommand!r}")
    lines = [_PRELUDE.replace("__TOOL__", tool_name).replace("__SUB__", subcommand).rstrip("\n"),
             f"set -- {subcommand}"]
    for s in specs:
        v = "${%s:-}" % s.name
        if s.kind == "value":
            if s.required:
                lines.append(f'_aj_require {s.name} "{v}"')
                lines.append(f'set -- "$@" "--{s.flag}=${s.name}"')
            else:
                lines.append(f'if [ -n "{v}" ]; then set -- "$@" "--{s.flag}=${s.name}"; fi')
        elif s.kind == "switch":
            lines.append(f'if _aj_true {s.name} "{v}"; then set -- "$@" --{s.flag}; fi')
    positionals = [s for s in specs if s.kind == "positional"]
    if len(positionals) > 1:
        raise ValueError("at most one positional per tool")
    for s in positionals:
        v = "${%s:-}" % s.name
        # "--" ends option parsing, so an ID such as "--approver=x" stays an ID.
        if s.required:
            lines.append(f'_aj_require {s.name} "{v}"')
            lines.append(f'set -- "$@" -- "${s.name}"')
        else:
            lines.append(f'if [ -n "{v}" ]; then set -- "$@" -- "${s.name}"; fi')
    lines.append('exec "$_aj_bin" "$@"')
    script = "\n".join(lines) + "\n"
    if "{{" in script or "}}" in script:
        raise ValueError("script must not contain template delimiters")
    return script


def make_tool(defn, settings):
    specs = defn["args"]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{defn['name']}: duplicate argument names")
    return Tool(
        name=defn["name"],
        description=defn["description"],
        type="docker",
        image=settings["image"],
        icon_url=ICON_URL,
        content=build_script(defn["name"], defn["subcommand"], specs),
        args=[s.arg() for s in specs],
        env=list(settings["env"]),
        secrets=list(settings["secrets"]),
        metadata={
            "aws_jit": {
                "subcommand": defn["subcommand"],
                "args": {s.name: s.mapping() for s in specs},
            }
        },
    )


def build_tools():
    settings = delivery_settings()
    return [make_tool(defn, settings) for defn in TOOLS]


# Registered under a named source: register(source, tool) creates the source's
# table when missing, whereas register(tool) needs a "default" table, which
# Kubiya's source discovery clears away before importing this folder.
SOURCE = "aws_jit"

for _tool in build_tools():
    tool_registry.register(SOURCE, _tool)
