# One command per habit. `make build-dev` once, then `make lint test`.
.PHONY: build-dev build-prod lint test test-all bench all

build-dev:  ## editable install, release-optimised extension
	python3 -m pip install -e ".[test]" --no-build-isolation

build-prod:
	python3 -m pip install ".[test]"

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	ruff check python tests benches
	ruff format --check python tests benches
	python3 -m mypy.stubtest sgdfast._core

test:
	cargo test --release
	python3 -m pytest

test-all:  ## with the slow full-MNIST tests (needs SGDFAST_DATA or the cache)
	cargo test --release
	python3 -m pytest --runslow

bench:
	python3 benches/bench_engine.py

all: lint test
