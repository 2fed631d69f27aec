# The two commands a newcomer needs: `make demo` and `make test` (see README).
.PHONY: build demo test lint bench catalog clean

build:
	cargo build --locked

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

bench:
	cargo build --locked --release
	bash scripts/bench_policy.sh target/release/aws-jit

catalog:
	bash scripts/catalog.sh

clean:
	cargo clean
	rm -rf .run
