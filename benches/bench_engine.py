"""Throughput of the sgdfast engine against the pure-numpy reference, measured in one run.

The book's workload: [784, 30, 10], m = 10, λ = 5, one epoch over the first N MNIST training
images (synthetic pixels if MNIST is not found). FLOPs are counted as 6·Σ n_in·n_out per
model-sample (forward, backward, update), the convention of issue 5. Each figure is the
median of several repeats; ratios compare figures from this same process.

    python benches/bench_engine.py            # full
    python benches/bench_engine.py --short    # CI smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import sgdfast
from sgdfast.data import DataNotFoundError

SIZES = (784, 30, 10)
FLOPS_PER_MODEL_SAMPLE = 6 * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm_gflops(n: int, repeats: int) -> float:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b  # warm up
    return 2 * n**3 / median_seconds(lambda: a @ b, repeats) / 1e9


def training_data(n: int) -> sgdfast.Dataset:
    try:
        return sgdfast.load_mnist(download=False).train[:n]
    except DataNotFoundError:
        rng = np.random.default_rng(0)
        return sgdfast.Dataset.from_arrays(rng.random((n, 784)), rng.integers(0, 10, n))


def epoch_rate(data, n_models: int, dtype: str, n_threads: int | None, backend: str, reps: int):
    """Model-samples per second of one training epoch, and of one training-cost evaluation."""
    trainer = sgdfast.Trainer(
        data,
        eta=list(np.geomspace(0.01, 1.0, n_models)),
        lmbda=5.0,
        sizes=SIZES,
        dtype=dtype,
        n_threads=n_threads,
        backend=backend,
        monitor=(),
    )
    train = median_seconds(trainer.run_epoch, reps)
    evaluate = median_seconds(lambda: trainer._engine.evaluate(0), reps)
    work = n_models * len(data)
    return work / train, train, evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a quick smoke run")
    parser.add_argument("--samples", type=int, help="training images per epoch")
    parser.add_argument("--models", type=int, nargs="+", help="K values")
    args = parser.parse_args()
    n = args.samples or (2_000 if args.short else 10_000)
    models = args.models or ([1, 8] if args.short else [1, 8, 64, 256])
    reps = 1 if args.short else 3
    data = training_data(n)
    cores = os.cpu_count()
    peak = sgemm_gflops(1024 if args.short else 4096, reps)
    print(
        f"machine: {platform.processor() or platform.machine()}, {cores} cores, kernels: "
        f"{sgdfast.isa()}; numpy sgemm peak (this run): {peak:.0f} GFLOP/s"
    )
    print(f"workload: {list(SIZES)}, m=10, λ=5, {n} samples per epoch\n")

    numpy_rate = {}
    for dtype in ("float32", "float64"):
        numpy_rate[dtype] = epoch_rate(data[: max(n // 5, 500)], 1, dtype, None, "numpy", reps)[0]

    header = (
        f"{'K':>4} {'dtype':>8} {'threads':>7} {'model-samples/s':>16} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'× numpy':>8} {'eval/epoch':>10}"
    )
    print(header)
    print("-" * len(header))
    for dtype in ("float32", "float64"):
        gf = numpy_rate[dtype] * FLOPS_PER_MODEL_SAMPLE / 1e9
        print(
            f"{1:>4} {dtype:>8} {'numpy':>7} {numpy_rate[dtype]:>16,.0f} {gf:>8.1f} "
            f"{100 * gf / peak:>6.0f}% {1.0:>8.2f}"
        )
        for k in models:
            for threads in (1, None):
                rate, train_s, eval_s = epoch_rate(data, k, dtype, threads, "rust", reps)
                gf = rate * FLOPS_PER_MODEL_SAMPLE / 1e9
                label = "all" if threads is None else str(threads)
                print(
                    f"{k:>4} {dtype:>8} {label:>7} {rate:>16,.0f} {gf:>8.1f} "
                    f"{100 * gf / peak:>6.0f}% {rate / numpy_rate[dtype]:>8.1f} "
                    f"{eval_s / train_s:>10.2f}"
                )


if __name__ == "__main__":
    main()
