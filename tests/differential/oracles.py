#!/usr/bin/env python3
"""Independent oracles for tests/policy_differential.rs: parliament 1.6.4 and
cloudsplaining 0.9.1 over a whole corpus, in one process (imports cost more than the
policies).

    oracles.py IN.json OUT.json

IN:  {"policies": [{"name": ..., "policy": {...}}, ...]}
OUT: {"results": [{"name", "policy", "parliament": [...], "cloudsplaining": {...}}, ...]}

Besides the corpus it is given, it adds one policy per method the peers know, from their
own lists: every cloudsplaining privilege-escalation method, every action either peer
says returns credentials, and cloudsplaining's data-exfiltration actions — each on "*",
as the peers test them. So the corpus covers every method they know, whatever version.
"""
import json
import logging
import os
import sys
import warnings

logging.disable(logging.CRITICAL)
# parliament imports pkg_resources, which warns about its own deprecation.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import parliament  # noqa: E402
from parliament import analyze_policy_string, enhance_finding, override_config  # noqa: E402
from parliament.community_auditors.credentials_exposure import CREDENTIALS_EXPOSURE_ACTIONS  # noqa: E402
from cloudsplaining.output.policy_finding import PolicyFinding  # noqa: E402
from cloudsplaining.scan.policy_document import PolicyDocument  # noqa: E402
from cloudsplaining.shared.constants import (  # noqa: E402
    ACTIONS_THAT_RETURN_CREDENTIALS,
    PRIVILEGE_ESCALATION_METHODS,
    READ_ONLY_DATA_EXFILTRATION_ACTIONS,
)
from cloudsplaining.shared.exclusions import DEFAULT_EXCLUSIONS  # noqa: E402

# The severities of the community auditors' findings, as parliament's CLI loads them.
override_config(
    os.path.join(os.path.dirname(parliament.__file__), "community_auditors", "config_override.yaml")
)

CATEGORIES = (
    "PrivilegeEscalation",
    "CredentialsExposure",
    "ResourceExposure",
    "DataExfiltration",
    "ServiceWildcard",
    "InfrastructureModification",
)


def wide(policy):
    """parliament expands Action "*" against every action of every service for each
    allowed action: ~20 s per policy. Such policies get cloudsplaining only."""
    sts = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(sts, dict):
        sts = [sts]
    for st in sts:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        acts = st.get("Action", [])
        acts = acts if isinstance(acts, list) else [acts]
        if any(isinstance(a, str) and a.split(":")[0] in ("*",) for a in acts):
            return True
    return False


def run_parliament(policy):
    if wide(policy):
        return None
    try:
        p = analyze_policy_string(json.dumps(policy), include_community_auditors=True)
        out = []
        for f in p.findings:
            try:
                sev = enhance_finding(f).severity
            except Exception:  # an issue parliament's config does not know
                sev = "UNKNOWN"
            loc = f.location if isinstance(f.location, dict) else {}
            out.append(
                {
                    "issue": f.issue,
                    "severity": sev,
                    "detail": str(f.detail)[:400],
                    "actions": [str(a) for a in loc.get("actions", [])] if isinstance(loc.get("actions"), list) else [],
                    "type": str(loc.get("type", "")),
                }
            )
        return out
    except Exception as e:  # parliament itself failed: the policy broke it
        return [{"issue": "CRASH", "severity": "CRITICAL", "detail": repr(e)[:400], "actions": [], "type": ""}]


def run_cloudsplaining(policy):
    try:
        doc = PolicyDocument(policy, DEFAULT_EXCLUSIONS)
        r = PolicyFinding(doc, DEFAULT_EXCLUSIONS).results
        out = {}
        for k in CATEGORIES:
            items = r[k]["findings"]
            if k == "PrivilegeEscalation":
                out[k] = [{"type": i["type"], "actions": list(i["actions"])} for i in items]
            else:
                out[k] = [str(i) for i in items]
        return out
    except Exception as e:
        return {"CRASH": repr(e)[:400]}


def allow(actions, resource="*"):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }


def peer_corpus():
    """One policy per method in the peers' own lists."""
    out = []
    for name, actions in PRIVILEGE_ESCALATION_METHODS.items():
        out.append({"name": f"peer:cloudsplaining-escalation:{name}", "policy": allow(sorted(actions))})
    creds = sorted(set(ACTIONS_THAT_RETURN_CREDENTIALS) | set(CREDENTIALS_EXPOSURE_ACTIONS))
    for a in creds:
        out.append({"name": f"peer:credentials:{a}", "policy": allow([a])})
    for a in READ_ONLY_DATA_EXFILTRATION_ACTIONS + ["rds:CopyDBSnapshot", "rds:CreateDBSnapshot"]:
        out.append({"name": f"peer:data-exfiltration:{a}", "policy": allow([a])})
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        corpus = json.load(f)["policies"]
    corpus = corpus + peer_corpus()
    results = []
    for item in corpus:
        policy = item["policy"]
        results.append(
            {
                "name": item["name"],
                "policy": policy,
                "parliament": run_parliament(policy),
                "cloudsplaining": run_cloudsplaining(policy),
            }
        )
    with open(dst, "w", encoding="utf-8") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
