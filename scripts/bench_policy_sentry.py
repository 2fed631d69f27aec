#!/usr/bin/env python3
"""policy_sentry side of `make bench`: one CRUD-mode policy per input line, written with
policy_sentry's own template API (write_policy_with_template), like `policy_sentry write-policy`.

  bench_policy_sentry.py INPUTS            one process, every input (what `make bench` times)
  bench_policy_sentry.py INPUTS --warm N   in-process: N rounds after import, prints ms/input
"""
import sys
import time

from policy_sentry.command.write_policy import write_policy_with_template


def load(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        _service, levels, resources = line.split("|")
        cfg = {"mode": "crud"}
        for level in levels.split(","):
            cfg[{"tagging": "tagging"}.get(level, level)] = resources.split(",")
        rows.append(cfg)
    return rows


def main():
    rows = load(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--warm":
        n = int(sys.argv[3])
        t = time.perf_counter()
        for _ in range(n):
            for cfg in rows:
                write_policy_with_template(cfg)
        print("%.3f" % ((time.perf_counter() - t) * 1000 / (n * len(rows))))
        return
    for cfg in rows:
        policy = write_policy_with_template(cfg)
        assert policy["Statement"], cfg


if __name__ == "__main__":
    main()
