"""Throughput of the sgdfast engine against the pure-numpy reference, measured in one run.

The book's workload: [784, 30, 10], m = 10, λ = 5, one epoch over the first N MNIST training
images (synthetic pixels if MNIST is not found); see ``sgdfast._bench`` for what is counted.
The same report as ``sgdfast bench``.

    python benches/bench_engine.py            # full
    python benches/bench_engine.py --short    # CI smoke run
"""

from __future__ import annotations

import argparse

import sgdfast
from sgdfast import _bench
from sgdfast.data import DataNotFoundError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a quick smoke run")
    parser.add_argument("--samples", type=int, help="training images per epoch")
    parser.add_argument("--models", type=int, nargs="+", help="K values")
    args = parser.parse_args()
    n = args.samples or (2_000 if args.short else 10_000)
    try:
        data = sgdfast.load_mnist(download=False).train[:n]
    except DataNotFoundError:
        data = _bench.synthetic_data(n)
    _bench.report(
        data,
        models=args.models or ([1, 8] if args.short else [1, 8, 64, 256]),
        repeats=1 if args.short else 3,
        sgemm_n=1024 if args.short else 4096,
    )


if __name__ == "__main__":
    main()
