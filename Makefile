# One command per habit. `make build-dev` once, then `make lint test`.
.PHONY: build-dev build-prod lint test test-all bench all

build-dev:  ## editable install, release-optimised extension
	python3 -m pip install -e ".[test]" --no-build-isolation

build-prod:
	python3 -m pip install ".[test]"

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	ruff check python tests benches docs
	ruff format --check python tests benches docs
	python3 -m mypy.stubtest sgdfast._core

test:
	cargo test --release
	python3 -m pytest
	python3 -m pytest -q --doctest-modules --pyargs sgdfast._result sgdfast._trainer \
	    sgdfast.estimator sgdfast.threshold sgdfast.schedules sgdfast.selection sgdfast.stability

test-all:  ## with the slow full-MNIST tests (needs SGDFAST_DATA or the cache)
	cargo test --release
	python3 -m pytest --runslow

bench:
	cargo bench --bench kernels
	python3 benches/bench_engine.py --models 1 4 16 64 256 --plot docs/throughput.png
	python3 benches/bench_validation_curve.py

all: lint test
