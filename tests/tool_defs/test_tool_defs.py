"""Tests for the Kubiya teammate tool definitions in tool_defs/.

* The tools are loaded the way Kubiya loads a source: with the published
  kubiya-sdk (its source discovery and its bundler), through its tool registry.
* Every tool must map to a real subcommand, and every argument to a real flag or
  positional of the built binary, as reported by `aws-jit cli-spec` (the binary
  describes itself, so the two cannot drift).  A missing binary is a failure.
* Every tool script is run in bash and dash with hostile argument values and a
  recording stand-in `aws-jit` first on PATH; the argv it receives must be
  exactly the expected list and nothing injected may run.
* The pinned-download path must refuse a binary whose SHA-256 does not match.
"""

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kubiya.tools.models import Tool

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOOL_DEFS = REPO / "tool_defs"
SAMPLE_SPEC = HERE / "fixtures" / "cli-spec.sample.json"
DEFAULT_BIN = REPO / "target" / "debug" / "aws-jit"

EXPECTED_TOOLS = {
    "aws_jit_request_access": "request",
    "aws_jit_approve": "approve",
    "aws_jit_reject": "reject",
    "aws_jit_attach": "attach",
    "aws_jit_status": "status",
    "aws_jit_revoke": "revoke",
    "aws_jit_cancel": "cancel",
    "aws_jit_expire": "expire",
    "aws_jit_reconcile": "reconcile",
    "aws_jit_extend": "extend",
    "aws_jit_review": "review",
    "aws_jit_rules_explain": "rules explain",
}
# Variable names of the original Kubiya teammate that must survive as arguments.
ORIGINAL_ARG_NAMES = {"purpose", "ttl", "policy_description", "permission_set_name", "policy_name", "request_id"}
REQUIRED_ENV = {"BACKEND_URL", "BACKEND_PORT", "KUBIYA_JIT_WEBHOOK", "APPROVAL_SLACK_CHANNEL",
                "APPROVAL_LIST", "KUBIYA_USER_EMAIL", "AWS_REGION",
                "BACKEND_USER", "BACKEND_TLS", "BACKEND_TLS_CA"}
REQUIRED_SECRETS = {"BACKEND_PASS", "JIT_STATE_KEY", "HF_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
# Caller identity comes from KUBIYA_USER_EMAIL; a tool argument for these flags
# would let a chat user act as someone else.
IDENTITY_FLAGS = {("request", "requester"), ("approve", "approver"), ("reject", "approver"),
                  ("revoke", "by"), ("cancel", "by"), ("extend", "by"), ("review", "by"),
                  ("rules explain", "requester")}
SHELLS = [s for s in ("bash", "dash") if shutil.which(s)]


# ---------------------------------------------------------------------------
# loading through kubiya-sdk
# ---------------------------------------------------------------------------
_DISCOVER = r"""
import json, sys
from kubiya.utils.discovery import discover_workflows_and_tools
res = discover_workflows_and_tools(sys.argv[1], dynamic_config=json.loads(sys.argv[2]))
with open(sys.argv[3], "w") as f:
    json.dump(res, f, default=str)
"""

_BUNDLE = r"""
import json, sys
from kubiya.kubiya_cli.bundle.bundler import bundle
b = bundle(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write(b.model_dump_json())
"""


def discover(tmp_path, dynamic_config=None, extra_env=None):
    """Kubiya's own source discovery (kubiya.utils.discovery), in a fresh interpreter."""
    out = tmp_path / "discovery.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_JIT_")}
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-c", _DISCOVER, str(TOOL_DEFS), json.dumps(dynamic_config or {}), str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def tools(tmp_path_factory):
    res = discover(tmp_path_factory.mktemp("discover"))
    assert not res.get("errors"), res.get("errors")
    loaded = [Tool(**t) for t in res["tools"]]
    return {t.name: t for t in loaded}


def find_bin():
    path = Path(os.environ.get("AWS_JIT_BIN") or DEFAULT_BIN)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"aws-jit binary not found or not executable at {path}. Build it first "
            f"(cargo build) or point AWS_JIT_BIN at it; these tests read the CLI from the "
            f"binary itself and are never skipped.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def cli_spec():
    path = find_bin()
    proc = subprocess.run([str(path), "cli-spec"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"`{path} cli-spec` exited {proc.returncode}: {proc.stderr.strip()}", pytrace=False)
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        pytest.fail(f"`{path} cli-spec` did not print JSON ({e}): {proc.stdout[:300]!r}", pytrace=False)


def meta(tool):
    return tool.metadata["aws_jit"]


# ---------------------------------------------------------------------------
# tool <-> binary consistency
# ---------------------------------------------------------------------------
def check_against_spec(tools, spec):
    """Every way a tool definition can disagree with the binary's CLI."""
    errors = []
    subs = spec.get("subcommands", {})
    globals_ = {f["long"]: f for f in spec.get("global", [])}
    for missing in sorted(set(EXPECTED_TOOLS.values()) - {meta(t)["subcommand"] for t in tools}):
        errors.append(f"no tool runs subcommand {missing!r}")
    for tool in tools:
        m = meta(tool)
        name, subname = tool.name, m["subcommand"]
        # A nested subcommand is written with spaces ("rules explain").
        sub = {"subcommands": subs}
        for word in subname.split(" "):
            sub = (sub or {}).get("subcommands", {}).get(word)
        if sub is None:
            errors.append(f"{name}: binary has no subcommand {subname!r}")
            continue
        flags = {f["long"]: f for f in sub.get("flags", [])}
        positionals = {p["name"]: p for p in sub.get("positionals", [])}
        args = {a.name: a for a in tool.args}
        if set(args) != set(m["args"]):
            errors.append(f"{name}: args {sorted(args)} != mapped args {sorted(m['args'])}")
        covered_flags, covered_pos = set(), set()
        for aname, arg in args.items():
            mp = m["args"].get(aname)
            if mp is None:
                continue
            if not arg.description or not arg.description.strip():
                errors.append(f"{name}.{aname}: no description")
            if mp["kind"] == "positional":
                p = positionals.get(mp["positional"])
                if p is None:
                    errors.append(f"{name}.{aname}: `{subname}` has no positional {mp['positional']!r}")
                    continue
                covered_pos.add(p["name"])
                if bool(arg.required) != bool(p["required"]):
                    errors.append(f"{name}.{aname}: required={bool(arg.required)} but positional "
                                  f"{p['name']} required={p['required']}")
                continue
            flag = mp["flag"]
            f = flags.get(flag) or globals_.get(flag)
            if f is None:
                errors.append(f"{name}.{aname}: `{subname}` has no flag --{flag}")
                continue
            covered_flags.add(flag)
            if (subname, flag) in IDENTITY_FLAGS:
                errors.append(f"{name}.{aname}: --{flag} is caller identity; it must come from KUBIYA_USER_EMAIL")
            if mp["kind"] == "switch":
                if f["takes_value"]:
                    errors.append(f"{name}.{aname}: --{flag} takes a value but the tool passes it as a switch")
                if sorted(arg.options or []) != ["false", "true"]:
                    errors.append(f"{name}.{aname}: switch must offer options true/false")
                if arg.required:
                    errors.append(f"{name}.{aname}: a switch cannot be required")
                continue
            if not f["takes_value"]:
                errors.append(f"{name}.{aname}: --{flag} is a switch but the tool passes --{flag}=VALUE")
            if bool(arg.required) != bool(f["required"]):
                errors.append(f"{name}.{aname}: required={bool(arg.required)} but --{flag} required={f['required']}")
            pv = f.get("possible_values") or []
            if pv:
                if not arg.options:
                    errors.append(f"{name}.{aname}: --{flag} accepts only {pv}; the tool must list options")
                elif not set(arg.options) <= set(pv):
                    errors.append(f"{name}.{aname}: options {sorted(set(arg.options) - set(pv))} "
                                  f"not accepted by --{flag} (accepts {pv})")
            if arg.default not in (None, "") and arg.options and arg.default not in arg.options:
                errors.append(f"{name}.{aname}: default {arg.default!r} not among options")
        for flag, f in flags.items():
            if f["required"] and flag not in covered_flags:
                errors.append(f"{name}: required flag --{flag} of `{subname}` has no tool argument")
        for pname, p in positionals.items():
            if p["required"] and pname not in covered_pos:
                errors.append(f"{name}: required positional {pname} of `{subname}` has no tool argument")
    return errors


def test_tools_match_the_built_binary(tools, cli_spec):
    assert cli_spec.get("name") == "aws-jit"
    errors = check_against_spec(list(tools.values()), cli_spec)
    assert not errors, "tool_defs disagree with `aws-jit cli-spec`:\n  " + "\n  ".join(errors)


def test_spec_check_catches_drift(tools):
    """The consistency check is not vacuous: it accepts the documented CLI shape
    and reports each kind of drift."""
    spec = json.loads(SAMPLE_SPEC.read_text())
    assert check_against_spec(list(tools.values()), spec) == []

    def drift(mutate):
        s = json.loads(SAMPLE_SPEC.read_text())
        mutate(s)
        return "\n".join(check_against_spec(list(tools.values()), s))

    subs = lambda s: s["subcommands"]  # noqa: E731
    flag = lambda s, sub, name: next(f for f in subs(s)[sub]["flags"] if f["long"] == name)  # noqa: E731

    assert "no subcommand 'cancel'" in drift(lambda s: subs(s).pop("cancel"))
    assert "has no flag --permission-set" in drift(
        lambda s: subs(s)["request"].update(flags=[f for f in subs(s)["request"]["flags"] if f["long"] != "permission-set"]))
    assert "options ['auto'] not accepted" in drift(
        lambda s: flag(s, "request", "generator").update(possible_values=["rules", "model"]))
    assert "required=False but --ttl required=True" in drift(lambda s: flag(s, "request", "ttl").update(required=True))
    assert "passes it as a switch" in drift(lambda s: flag(s, "expire", "dry-run").update(takes_value=True))
    assert "is a switch but" in drift(lambda s: flag(s, "approve", "comment").update(takes_value=False))
    assert "has no positional 'ID'" in drift(lambda s: subs(s)["attach"].update(positionals=[]))
    assert "required flag --justification" in drift(lambda s: subs(s)["reject"]["flags"].append(
        {"long": "justification", "takes_value": True, "required": True, "possible_values": []}))


# ---------------------------------------------------------------------------
# shape of the definitions, as Kubiya sees them
# ---------------------------------------------------------------------------
def test_kubiya_source_discovery_finds_every_tool(tools):
    assert {n: meta(t)["subcommand"] for n, t in tools.items()} == EXPECTED_TOOLS
    arg_names = {a.name for t in tools.values() for a in t.args}
    assert ORIGINAL_ARG_NAMES <= arg_names
    for t in tools.values():
        assert t.type == "docker"
        assert t.image == "aws-jit:latest"
        assert t.content.startswith("#!/bin/sh\n")
        assert len(t.description) <= 1024


def test_kubiya_bundler_loads_the_same_tools(tmp_path):
    out = tmp_path / "bundle.json"
    proc = subprocess.run([sys.executable, "-c", _BUNDLE, str(TOOL_DEFS), str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    b = json.loads(out.read_text())
    assert b["errors"] == []
    assert sorted(t["name"] for t in b["tools"]) == sorted(EXPECTED_TOOLS)


def test_arguments_are_described_and_safe_to_export(tools):
    for t in tools.values():
        env_names = {e.split("=", 1)[0] for e in t.env}
        for a in t.args:
            assert a.description.strip(), (t.name, a.name)
            assert a.name.isidentifier() and a.name == a.name.lower(), (t.name, a.name)
            assert a.name not in env_names and a.name.upper() not in env_names, (t.name, a.name)
            assert not a.name.startswith("_aj_"), "reserved for the script's own variables"
        assert len({a.name for a in t.args}) == len(t.args)


def test_environment_and_secrets(tools):
    for t in tools.values():
        env_names = {e.split("=", 1)[0] for e in t.env}
        assert REQUIRED_ENV <= env_names, t.name
        assert REQUIRED_SECRETS <= set(t.secrets), t.name
        # secrets never travel as plain env
        assert not env_names & set(t.secrets), t.name
        assert not any(n.startswith(("BACKEND_PASS", "HF_TOKEN", "AWS_SECRET")) for n in env_names)
        # default delivery: nothing baked in, URL and checksum pass through from the teammate
        assert "AWS_JIT_BINARY_URL" in t.env and "AWS_JIT_BINARY_SHA256" in t.env


def test_scripts_never_template_arguments(tools):
    """Kubiya renders `{{ .arg }}` into content; our scripts must contain none,
    nor any other reference to an argument than "${name:-}" / "$name" inside quotes."""
    for t in tools.values():
        texts = [t.content] + [f.content or "" for f in (t.with_files or [])]
        for text in texts:
            assert "{{" not in text and "}}" not in text, t.name
            assert "eval" not in text.split(), t.name
        for a in t.args:
            for line in t.content.splitlines():
                if f"${a.name}" in line or "${%s" % a.name in line:
                    # every expansion of an argument sits inside double quotes
                    unquoted = line.replace(f'"${{{a.name}:-}}"', "").replace(f'"${a.name}"', "")
                    unquoted = unquoted.replace(f'"--{meta(t)["args"][a.name].get("flag")}=${a.name}"', "")
                    assert f"${a.name}" not in unquoted and "${%s" % a.name not in unquoted, (t.name, line)


def test_no_tool_takes_caller_identity(tools):
    for t in tools.values():
        m = meta(t)
        for a, mp in m["args"].items():
            assert (m["subcommand"], mp.get("flag")) not in IDENTITY_FLAGS, (t.name, a)
        assert not {"approver", "by"} & {a.name for a in t.args}


# ---------------------------------------------------------------------------
# running the scripts
# ---------------------------------------------------------------------------
STANDIN = """#!{python}
import os, sys
with open({record!r}, "wb") as f:
    f.write(b"".join(os.fsencode(a) + b"\\0" for a in sys.argv[1:]))
"""
TRAP = """#!/bin/sh
: > "{canary}/$(basename "$0")-ran"
"""


class Run:
    def __init__(self, proc, record, canary):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.canaries = sorted(p.name for p in canary.iterdir())
        self.argv = None
        if record.exists():
            raw = record.read_bytes()
            assert raw == b"" or raw.endswith(b"\0")
            self.argv = [os.fsdecode(x) for x in raw.split(b"\0")[:-1]]


class Sandbox:
    """A temp dir with a recording stand-in `aws-jit`, trap `rm`/`id`, a canary dir."""

    def __init__(self, root):
        self.root = root
        self.bin = root / "bin"
        self.canary = root / "canary"
        self.record = root / "argv.bin"
        self.tmp = root / "tmp"
        for d in (self.bin, self.canary, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        self.standin = STANDIN.format(python=sys.executable, record=str(self.record))
        self._write(self.bin / "aws-jit", self.standin)
        for trap in ("rm", "id", "reboot", "curl", "wget"):
            self._write(self.bin / trap, TRAP.format(canary=self.canary))

    @staticmethod
    def _write(path, text):
        path.write_text(text)
        path.chmod(0o755)

    def sysbin(self, fetcher=None):
        """A PATH dir holding only what the download path needs (no aws-jit)."""
        d = self.root / f"sysbin-{fetcher or 'none'}"
        if not d.exists():
            d.mkdir()
            for name in ("mktemp", "tr", "cut", "sha256sum", "chmod", "rm", "cat") + ((fetcher,) if fetcher else ()):
                (d / name).symlink_to(shutil.which(name))
        return d

    def run(self, tool, args, shell="bash", path=None, env=None):
        if self.record.exists():
            self.record.unlink()
        script = self.root / f"{tool.name}.sh"
        script.write_text(tool.content)
        e = {
            "PATH": path if path is not None else f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.root),
            "TMPDIR": str(self.tmp),
            "LC_ALL": "C.UTF-8",
            "KUBIYA_USER_EMAIL": "alice@example.com",
            "BACKEND_URL": "redis://127.0.0.1:1/0",
        }
        # what Kubiya does with Tool.env entries of the form KEY=VALUE
        for entry in tool.env:
            if "=" in entry:
                k, v = entry.split("=", 1)
                e[k] = v
        e.update(env or {})
        e.update(args)
        proc = subprocess.run([shutil.which(shell), str(script)], env=e, cwd=self.root,
                              capture_output=True, text=True, timeout=60)
        return Run(proc, self.record, self.canary)


@pytest.fixture
def sandbox(tmp_path):
    return Sandbox(tmp_path)


def hostile_values(canary):
    return [
        'x"; rm -rf / #',
        "$(id)",
        f"$(touch {canary}/dollar-paren)",
        f"`touch {canary}/backtick`",
        f"'; touch {canary}/single-quote; '",
        f'"; touch {canary}/double-quote; "',
        f"line1\nline2; touch {canary}/newline\n",
        "--approver=evil@example.com",
        "--by=mallory",
        "-rf",
        "--",
        "-",
        "  padded  and\ttabbed  ",
        "ünïcødé ✓ 日本語 🚀 \u202e",
        "*",
        "${HOME}",
        "$PATH; reboot",
        "\\n\\\\ back\\slash",
        "%s%n%%",
        "{{ .purpose }}",
        "a=b=c",
        "& reboot &",
        "| reboot",
        "> /tmp/x",
        "",  # empty: optional arguments are left out (required ones get "x" instead)
    ]


def expected_argv(tool, values):
    """The argv the mapping in tool.metadata says aws-jit must receive."""
    m = meta(tool)
    argv, tail = m["subcommand"].split(" "), []
    for a in tool.args:
        mp, v = m["args"][a.name], values.get(a.name, "")
        if mp["kind"] == "value" and v != "":
            argv.append(f"--{mp['flag']}={v}")
        elif mp["kind"] == "switch" and v.lower() in ("true", "yes", "1"):
            argv.append(f"--{mp['flag']}")
        elif mp["kind"] == "positional" and v != "":
            tail = ["--", v]
    return argv + tail


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("tool_name", sorted(EXPECTED_TOOLS))
def test_hostile_values_reach_the_binary_intact(tools, sandbox, tool_name, shell):
    tool = tools[tool_name]
    payloads = hostile_values(sandbox.canary)
    value_args = [a for a in tool.args if meta(tool)["args"][a.name]["kind"] != "switch"]
    switches = [a for a in tool.args if meta(tool)["args"][a.name]["kind"] == "switch"]
    # enough rounds that every argument receives every payload
    for round_ in range(len(payloads)):
        values = {a.name: payloads[(round_ + i) % len(payloads)] or ("x" if a.required else "")
                  for i, a in enumerate(value_args)}
        values.update({s.name: ("true" if round_ % 2 else "false") for s in switches})
        run = sandbox.run(tool, values, shell=shell)
        assert run.rc == 0, (values, run.stderr)
        assert run.canaries == [], f"injected command ran: {run.canaries}"
        assert run.argv == expected_argv(tool, values)


def _exact(tools, sandbox, tool, args, shell="bash"):
    run = sandbox.run(tools[tool], args, shell=shell)
    assert run.rc == 0, run.stderr
    assert run.canaries == []
    return run.argv


@pytest.mark.parametrize("shell", SHELLS)
def test_exact_argv_examples(tools, sandbox, shell):
    """Hand-written expectations, independent of the mapping metadata."""
    ex = functools.partial(_exact, tools, sandbox, shell=shell)
    assert ex("aws_jit_request_access", {
        "purpose": 'x"; rm -rf / #', "ttl": "1h", "sso_user": "alice", "account_id": "123456789012",
        "permission_set_name": "ReadOnlyAccess", "policy_description": "", "region": "",
    }) == ["request", '--purpose=x"; rm -rf / #', "--ttl=1h", "--sso-user=alice",
           "--account-id=123456789012", "--permission-set=ReadOnlyAccess"]
    assert ex("aws_jit_request_access", {
        "purpose": "$(id)", "iam_role": "--iam-user=root", "policy_description": "read bucket `reports`\n",
        "policy_name": "jit reports", "generator": "rules",
    }) == ["request", "--purpose=$(id)", "--iam-role=--iam-user=root",
           "--policy-description=read bucket `reports`\n", "--policy-name=jit reports", "--generator=rules"]
    assert ex("aws_jit_request_access", {
        "purpose": "debug", "iam_user": "bob", "service": "s3", "actions": "GetObject,ListBucket",
        "resources": "arn:aws:s3:::b,arn:aws:s3:::b/*",
    }) == ["request", "--purpose=debug", "--iam-user=bob", "--service=s3",
           "--actions=GetObject,ListBucket", "--resources=arn:aws:s3:::b,arn:aws:s3:::b/*"]
    assert ex("aws_jit_approve", {
        "request_id": "--approver=evil", "comment": "`id`",
        "acknowledge_findings": "passrole-escalation,resource-star",
    }) == ["approve", "--comment=`id`", "--acknowledge-findings=passrole-escalation,resource-star",
           "--", "--approver=evil"]
    assert ex("aws_jit_approve", {"request_id": "jit-1", "acknowledge_findings": ""}) == ["approve", "--", "jit-1"]
    assert ex("aws_jit_reject", {"request_id": "jit-1", "reason": "no\nticket; $(id)"}) == \
        ["reject", "--reason=no\nticket; $(id)", "--", "jit-1"]
    assert ex("aws_jit_attach", {"request_id": "jit-1"}) == ["attach", "--", "jit-1"]
    assert ex("aws_jit_status", {}) == ["status"]
    assert ex("aws_jit_status", {"request_id": "", "state": "active", "requester": "bob@example.com"}) == \
        ["status", "--state=active", "--requester=bob@example.com"]
    assert ex("aws_jit_status", {"request_id": "-h"}) == ["status", "--", "-h"]
    assert ex("aws_jit_status", {"limit": "5"}) == ["status", "--limit=5"]
    assert ex("aws_jit_revoke", {"request_id": "jit-1", "reason": "incident over"}) == \
        ["revoke", "--reason=incident over", "--", "jit-1"]
    assert ex("aws_jit_cancel", {"request_id": "jit-1"}) == ["cancel", "--", "jit-1"]
    assert ex("aws_jit_expire", {}) == ["expire"]
    assert ex("aws_jit_expire", {"dry_run": "yes"}) == ["expire", "--dry-run"]
    # A chat user cannot move the clock: the expire tool has no `at` argument, and a
    # stray `at` variable in the environment never reaches the binary.
    assert "at" not in {a.name for a in tools["aws_jit_expire"].args}
    assert ex("aws_jit_expire", {"at": "2099-01-01T00:00:00Z"}) == ["expire"]
    # Nor can they make reconcile remove what an attach in flight just made: no arguments.
    assert tools["aws_jit_reconcile"].args == []
    assert ex("aws_jit_reconcile", {}) == ["reconcile"]
    assert ex("aws_jit_reconcile", {"older_than": "0s", "dry_run": "false"}) == ["reconcile"]
    # Access rules: extend, review, explain, break-glass; identity never an argument.
    assert ex("aws_jit_extend", {"request_id": "jit-1", "ttl": "30m", "reason": "$(id); overran"}) == \
        ["extend", "--ttl=30m", "--reason=$(id); overran", "--", "jit-1"]
    assert ex("aws_jit_extend", {"request_id": "jit-1", "ttl": "1h", "reason": "x", "by": "boss@example.com"}) == \
        ["extend", "--ttl=1h", "--reason=x", "--", "jit-1"]
    assert ex("aws_jit_review", {"request_id": "--by=evil", "comment": "`id` ok"}) == \
        ["review", "--comment=`id` ok", "--", "--by=evil"]
    assert ex("aws_jit_rules_explain", {
        "iam_user": "bob", "service": "s3", "access": "read", "resources": "arn:aws:s3:::b/*",
        "requester": "boss@example.com", "break_glass": "true",
    }) == ["rules", "explain", "--iam-user=bob", "--service=s3", "--access=read",
           "--resources=arn:aws:s3:::b/*", "--break-glass"]
    assert ex("aws_jit_request_access", {
        "purpose": "incident", "iam_user": "bob", "policy_description": "read bucket logs",
        "break_glass": "yes", "incident": "prod down; $(reboot)",
    }) == ["request", "--purpose=incident", "--iam-user=bob", "--policy-description=read bucket logs",
           "--break-glass", "--reason=prod down; $(reboot)"]
    assert ex("aws_jit_status", {"unreviewed": "true"}) == ["status", "--unreviewed"]
    for t in ("aws_jit_extend", "aws_jit_review", "aws_jit_rules_explain"):
        assert not {"by", "approver", "requester"} & {a.name for a in tools[t].args}, t


@pytest.mark.parametrize("tool_name,args,missing", [
    ("aws_jit_request_access", {"sso_user": "a"}, "purpose"),
    ("aws_jit_request_access", {"purpose": ""}, "purpose"),
    ("aws_jit_approve", {}, "request_id"),
    ("aws_jit_reject", {"request_id": "jit-1"}, "reason"),
    ("aws_jit_reject", {"reason": "x"}, "request_id"),
    ("aws_jit_revoke", {"request_id": "jit-1", "reason": ""}, "reason"),
    ("aws_jit_attach", {"request_id": ""}, "request_id"),
    ("aws_jit_cancel", {}, "request_id"),
    ("aws_jit_extend", {"request_id": "jit-1", "reason": "x"}, "ttl"),
    ("aws_jit_extend", {"request_id": "jit-1", "ttl": "1h"}, "reason"),
    ("aws_jit_extend", {"ttl": "1h", "reason": "x"}, "request_id"),
    ("aws_jit_review", {"request_id": "jit-1"}, "comment"),
    ("aws_jit_review", {"comment": "ok"}, "request_id"),
])
def test_missing_required_argument_is_refused(tools, sandbox, tool_name, args, missing):
    run = sandbox.run(tools[tool_name], args)
    assert run.rc == 2
    assert run.argv is None
    assert f"argument '{missing}' is required" in run.stderr


@pytest.mark.parametrize("value", ["maybe", "$(id)", "true; reboot", "--dry-run"])
def test_switch_accepts_only_booleans(tools, sandbox, value):
    run = sandbox.run(tools["aws_jit_expire"], {"dry_run": value})
    assert run.rc == 2 and run.argv is None and run.canaries == []
    assert "must be true or false" in run.stderr


def test_missing_binary_is_a_clear_error(tools, sandbox):
    run = sandbox.run(tools["aws_jit_status"], {}, path="/usr/bin:/bin")
    assert run.rc == 127
    assert "aws-jit is not on PATH" in run.stderr and "AWS_JIT_IMAGE" in run.stderr


def test_refuses_to_run_without_a_shared_store(tools, sandbox):
    run = sandbox.run(tools["aws_jit_request_access"], {"purpose": "p"}, env={"BACKEND_URL": ""})
    assert run.rc == 2 and run.argv is None
    assert "BACKEND_URL is not set" in run.stderr
    # a persistent state dir is the documented alternative
    run = sandbox.run(tools["aws_jit_status"], {}, env={"BACKEND_URL": "", "JIT_STATE_DIR": str(sandbox.tmp)})
    assert run.rc == 0 and run.argv == ["status"]


def test_exit_code_and_output_of_the_binary_pass_through(tools, sandbox):
    (sandbox.bin / "aws-jit").write_text('#!/bin/sh\necho "out: $1"\necho "err: $#" >&2\nexit 5\n')
    run = sandbox.run(tools["aws_jit_attach"], {"request_id": "jit-9"})
    assert (run.rc, run.stdout, run.stderr) == (5, "out: attach\n", "err: 3\n")


# ---------------------------------------------------------------------------
# binary delivery: pinned download
# ---------------------------------------------------------------------------
@pytest.fixture
def server(sandbox):
    """127.0.0.1 HTTP server serving sandbox/www."""
    www = sandbox.root / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _publish(sandbox, www):
    data = sandbox.standin.encode()
    (www / "aws-jit").write_bytes(data)
    return hashlib.sha256(data).hexdigest()


FETCHERS = [f for f in ("curl", "wget") if shutil.which(f)]


@pytest.mark.parametrize("fetcher", FETCHERS)
@pytest.mark.parametrize("shell", SHELLS)
def test_download_with_matching_sha256_runs(tools, sandbox, server, fetcher, shell):
    www, base = server
    sha = _publish(sandbox, www)
    run = sandbox.run(tools["aws_jit_approve"], {"request_id": "$(id)", "comment": "ok"}, shell=shell,
                      path=str(sandbox.sysbin(fetcher)),
                      env={"AWS_JIT_BINARY_URL": f"{base}/aws-jit", "AWS_JIT_BINARY_SHA256": sha.upper()})
    assert run.rc == 0, run.stderr
    assert run.argv == ["approve", "--comment=ok", "--", "$(id)"]


@pytest.mark.parametrize("fetcher", FETCHERS)
@pytest.mark.parametrize("shell", SHELLS)
def test_download_with_wrong_sha256_is_refused(tools, sandbox, server, fetcher, shell):
    www, base = server
    sha = _publish(sandbox, www)
    wrong = hashlib.sha256(b"something else").hexdigest()
    assert wrong != sha
    run = sandbox.run(tools["aws_jit_attach"], {"request_id": "jit-1"}, shell=shell,
                      path=str(sandbox.sysbin(fetcher)),
                      env={"AWS_JIT_BINARY_URL": f"{base}/aws-jit", "AWS_JIT_BINARY_SHA256": wrong})
    assert run.rc == 3
    assert run.argv is None, "a binary with the wrong checksum was executed"
    assert "SHA-256 mismatch" in run.stderr and "refusing" in run.stderr
    # the unverified download is not left behind
    assert not list(sandbox.tmp.glob("aws-jit.*/aws-jit"))


def test_download_via_file_url(tools, sandbox):
    f = sandbox.root / "dist" / "aws-jit"
    f.parent.mkdir()
    f.write_text(sandbox.standin)
    sha = hashlib.sha256(f.read_bytes()).hexdigest()
    env = {"AWS_JIT_BINARY_URL": f.as_uri(), "AWS_JIT_BINARY_SHA256": sha}
    run = sandbox.run(tools["aws_jit_cancel"], {"request_id": "jit-2"}, path=str(sandbox.sysbin("curl")), env=env)
    assert run.rc == 0, run.stderr
    assert run.argv == ["cancel", "--", "jit-2"]
    f.write_text(sandbox.standin + "# tampered\n")
    run = sandbox.run(tools["aws_jit_cancel"], {"request_id": "jit-2"}, path=str(sandbox.sysbin("curl")), env=env)
    assert run.rc == 3 and run.argv is None


@pytest.mark.parametrize("env,message", [
    ({"AWS_JIT_BINARY_URL": "http://127.0.0.1:9/aws-jit"}, "AWS_JIT_BINARY_SHA256 must be set"),
    ({"AWS_JIT_BINARY_URL": "http://127.0.0.1:9/aws-jit", "AWS_JIT_BINARY_SHA256": "abc"}, "64 hex digits"),
    ({"AWS_JIT_BINARY_URL": "http://127.0.0.1:9/aws-jit", "AWS_JIT_BINARY_SHA256": "g" * 64}, "must be set"),
    ({"AWS_JIT_BINARY_URL": "-o/etc/passwd", "AWS_JIT_BINARY_SHA256": "a" * 64}, "must be an https://"),
    ({"AWS_JIT_BINARY_URL": "http://127.0.0.1:9/aws-jit", "AWS_JIT_BINARY_SHA256": "a" * 64}, "could not download"),
])
def test_download_misconfiguration_is_refused(tools, sandbox, env, message):
    run = sandbox.run(tools["aws_jit_status"], {}, path=str(sandbox.sysbin("curl")), env=env)
    assert run.rc != 0 and run.argv is None
    assert message in run.stderr


# ---------------------------------------------------------------------------
# delivery settings at load time (source dynamic config / loader env)
# ---------------------------------------------------------------------------
def test_delivery_settings_from_source_dynamic_config(tmp_path, sandbox, server):
    www, base = server
    sha = _publish(sandbox, www)
    res = discover(tmp_path, dynamic_config={"AWS_JIT_BINARY_URL": f"{base}/aws-jit", "aws_jit_binary_sha256": sha})
    assert not res.get("errors")
    loaded = {t["name"]: Tool(**t) for t in res["tools"]}
    assert set(loaded) == set(EXPECTED_TOOLS)
    for t in loaded.values():
        assert t.image == "alpine:3.20"
        assert f"AWS_JIT_BINARY_URL={base}/aws-jit" in t.env
        assert f"AWS_JIT_BINARY_SHA256={sha}" in t.env
    # the baked-in settings are what the container sees
    run = sandbox.run(loaded["aws_jit_attach"], {"request_id": "jit-3"}, path=str(sandbox.sysbin("curl")))
    assert run.rc == 0, run.stderr
    assert run.argv == ["attach", "--", "jit-3"]


def test_delivery_settings_from_loader_environment(tmp_path):
    res = discover(tmp_path, extra_env={"AWS_JIT_IMAGE": "registry.example.com/aws-jit:0.1.0",
                                        "AWS_JIT_SECRETS": "BACKEND_PASS,HF_TOKEN"})
    assert not res.get("errors")
    for t in res["tools"]:
        assert t["image"] == "registry.example.com/aws-jit:0.1.0"
        assert t["secrets"] == ["BACKEND_PASS", "HF_TOKEN"]


@pytest.mark.parametrize("config", [
    {"AWS_JIT_BINARY_URL": "https://example.com/aws-jit"},
    {"AWS_JIT_BINARY_URL": "https://example.com/aws-jit", "AWS_JIT_BINARY_SHA256": "1234"},
    {"AWS_JIT_BINARY_URL": "ftp://example.com/aws-jit", "AWS_JIT_BINARY_SHA256": "a" * 64},
    {"AWS_JIT_IMAGE": "bad image"},
])
def test_invalid_delivery_settings_fail_loudly(tmp_path, config):
    res = discover(tmp_path, dynamic_config=config)
    assert res.get("errors"), "an invalid setting must surface as a discovery error"
    assert not res.get("tools")


# ---------------------------------------------------------------------------
# end to end: the scripts drive the real binary (embedded store, no AWS call)
# ---------------------------------------------------------------------------
def test_tool_scripts_drive_the_real_binary(tools, sandbox):
    real = find_bin()
    (sandbox.bin / "aws-jit").unlink()
    (sandbox.bin / "aws-jit").symlink_to(real)
    state = sandbox.root / "state"
    state.mkdir()
    base = {"BACKEND_URL": "", "JIT_STATE_DIR": str(state), "APPROVAL_LIST": "boss@example.com"}
    # `request` reads the target from AWS (its owner, for the beneficiary rule): the
    # emulator `make test` starts, with the user and role made here.
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    assert endpoint, "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto_server)"
    aws = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    base.update(aws)
    import boto3
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    suffix = hashlib.sha256(str(state).encode()).hexdigest()[:10]
    bob, ops = f"bob-{suffix}", f"ops-{suffix}"
    iam.create_user(UserName=bob)
    iam.create_role(RoleName=ops, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))

    def tool(name, args, user):
        run = sandbox.run(tools[name], args, env=dict(base, KUBIYA_USER_EMAIL=user))
        assert run.rc == 0, f"{name}: {run.stderr}"
        assert run.canaries == []
        return run.stdout

    def show(rid):
        # The binary refuses a set-but-empty BACKEND_URL; the tool scripts unset it.
        env = {k: v for k, v in dict(os.environ, **base).items() if k != "BACKEND_URL"}
        proc = subprocess.run([str(real), "status", "--output", "json", "--", rid],
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["request"]

    hostile = hostile_values(sandbox.canary)
    purpose = "\n".join(hostile[:8])
    out = tool("aws_jit_request_access", {
        "purpose": purpose, "ttl": "1h", "iam_user": bob, "service": "s3",
        "actions": "GetObject,ListBucket", "resources": "arn:aws:s3:::team-logs,arn:aws:s3:::team-logs/*",
        "policy_description": "", "permission_set_name": "",
    }, "alice@example.com")
    rid = re.search(r"jit-[0-9a-z]+", out).group(0)
    req = show(rid)
    assert req["purpose"] == purpose
    assert req["requester"] == "alice@example.com"
    assert req["state"] == "pending"

    comment = "; ".join(hostile[8:16])
    tool("aws_jit_approve", {"request_id": rid, "comment": comment, "acknowledge_findings": ""},
         "boss@example.com")
    req = show(rid)
    assert req["state"] == "approved"
    assert [(a["by"], a["comment"]) for a in req["approvals"]] == [("boss@example.com", comment)]

    out = tool("aws_jit_request_access", {"purpose": "second", "iam_role": ops, "service": "s3",
                                          "access": "list", "resources": "arn:aws:s3:::team-logs"}, "alice@example.com")
    rid2 = re.search(r"jit-[0-9a-z]+", out).group(0)
    reason = "\n".join(hostile[16:-1])  # (the last payload is ""; the binary trims whitespace)
    tool("aws_jit_reject", {"request_id": rid2, "reason": reason}, "boss@example.com")
    assert show(rid2)["state"] == "rejected"
    decision = show(rid2)["decision"]
    assert decision["by"] == "boss@example.com"
    assert reason in decision.values()

    assert rid in tool("aws_jit_status", {"state": "approved"}, "alice@example.com")
    tool("aws_jit_expire", {"dry_run": "true"}, "")


RULES = """
[groups]
security = ["sec@example.com", "ciso@example.com"]

[[rule]]
name = "read-only"
max_access = "read"
findings = "none"
max_ttl = "2h"
approval = "auto"
extensions = 1

[[rule]]
name = "admin"
approvers = ["group:security"]
quorum = 2
max_ttl = "1h"
break_glass = true
"""


def test_access_rule_tools_drive_the_real_binary(tools, sandbox):
    """Explain, auto approval, extend, break-glass and review through the tool scripts,
    with the rules inline in JIT_RULES as a Kubiya teammate would set them."""
    real = find_bin()
    (sandbox.bin / "aws-jit").unlink()
    (sandbox.bin / "aws-jit").symlink_to(real)
    state = sandbox.root / "state"
    state.mkdir()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    assert endpoint, "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto_server)"
    base = {"BACKEND_URL": "", "JIT_STATE_DIR": str(state), "APPROVAL_LIST": "boss@example.com",
            "JIT_RULES": RULES, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    import boto3
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    carol = "carol-" + hashlib.sha256(str(state).encode()).hexdigest()[:10]
    iam.create_user(UserName=carol)

    def tool(name, args, user, rc=0):
        run = sandbox.run(tools[name], args, env=dict(base, KUBIYA_USER_EMAIL=user))
        assert run.rc == rc, f"{name}: {run.rc} {run.stderr}"
        assert run.canaries == []
        return run

    def show(rid):
        env = {k: v for k, v in dict(os.environ, **base).items() if k != "BACKEND_URL"}
        proc = subprocess.run([str(real), "status", "--output", "json", "--", rid],
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["request"]

    read = {"iam_user": carol, "service": "s3", "actions": "GetObject",
            "resources": "arn:aws:s3:::team-logs/*"}
    out = tool("aws_jit_rules_explain", read, "alice@example.com").stdout
    assert "rule: read-only" in out and "approval: auto" in out, out
    admin = {"iam_user": carol, "service": "iam", "actions": "CreateUser",
             "resources": "arn:aws:iam::123456789012:user/x"}
    out = tool("aws_jit_rules_explain", admin, "alice@example.com").stdout
    assert "rule: admin" in out and "skipped rule read-only" in out, out

    out = tool("aws_jit_request_access", dict(read, purpose="read logs", ttl="1h"), "alice@example.com").stdout
    rid = re.search(r"jit-[0-9a-z]+", out).group(0)
    assert show(rid)["approvals"][0]["by"] == "rule:read-only"
    tool("aws_jit_attach", {"request_id": rid}, "alice@example.com")
    before = show(rid)["expires_at"]
    # Someone else cannot extend it; its requester can, and the auto rule extends at once.
    tool("aws_jit_extend", {"request_id": rid, "ttl": "30m", "reason": "x"}, "mallory@example.com", rc=5)
    tool("aws_jit_extend", {"request_id": rid, "ttl": "30m", "reason": "still reading"}, "alice@example.com")
    after = show(rid)
    assert after["expires_at"] != before and after["extended"][0]["approved_by"] == ["rule:read-only"]

    # Break-glass only for oneself: on alice's own IAM user (hers by its name).
    try:
        iam.create_user(UserName="alice")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    tool("aws_jit_request_access", dict(admin, purpose="incident", ttl="30m", break_glass="true",
                                        incident="prod down"), "alice@example.com", rc=5)
    out = tool("aws_jit_request_access", dict(admin, iam_user="alice", purpose="incident", ttl="30m",
                                              break_glass="true", incident="prod down"),
               "alice@example.com").stdout
    bg = re.search(r"jit-[0-9a-z]+", out).group(0)
    assert show(bg)["state"] == "approved" and show(bg)["break_glass"]["reason"] == "prod down"
    assert bg in tool("aws_jit_status", {"unreviewed": "true"}, "alice@example.com").stdout
    # The requester never reviews their own break-glass; one of the rule's approvers does.
    tool("aws_jit_review", {"request_id": bg, "comment": "fine"}, "alice@example.com", rc=5)
    tool("aws_jit_review", {"request_id": bg, "comment": "justified"}, "ciso@example.com")
    assert show(bg)["break_glass"]["review"]["by"] == "ciso@example.com"
    tool("aws_jit_expire", {"dry_run": "true"}, "")
