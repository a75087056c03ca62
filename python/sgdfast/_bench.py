"""Throughput of the engine against the numpy reference, measured in one process.

Shared by ``sgdfast bench`` and ``benches/bench_engine.py``. The book's workload:
[784, 30, 10], m = 10, λ = 5, one epoch over the given training images. FLOPs are counted as
6·Σ n_in·n_out per model-sample (forward, backward, update). Each figure is the median of
``repeats`` runs; ratios compare figures from this same process.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from ._core import isa
from ._trainer import Trainer
from .data import Dataset

SIZES = (784, 30, 10)
FLOPS_PER_MODEL_SAMPLE = 6 * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))
DTYPES = ("float32", "float64")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm_gflops(n: int, repeats: int) -> float:
    """numpy's float32 matrix product of two n×n matrices, in GFLOP/s: the machine's peak."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b  # warm up
    return 2 * n**3 / median_seconds(lambda: a @ b, repeats) / 1e9


def synthetic_data(n: int) -> Dataset:
    """Random pixels and labels of MNIST's shape, for machines without MNIST."""
    rng = np.random.default_rng(0)
    return Dataset.from_arrays(rng.random((n, SIZES[0])), rng.integers(0, SIZES[-1], n))


def epoch_rate(
    data: Dataset, n_models: int, dtype: str, n_threads: int | None, backend: str, repeats: int
) -> tuple[float, float, float]:
    """Model-samples per second of one training epoch; the seconds of one epoch and of one
    training-cost evaluation over the same samples."""
    trainer = Trainer(
        data,
        eta=list(np.geomspace(0.01, 1.0, n_models)),
        lmbda=5.0,
        sizes=SIZES,
        dtype=dtype,
        n_threads=n_threads,
        backend=backend,
        monitor=(),
    )
    train = median_seconds(trainer.run_epoch, repeats)
    evaluate = median_seconds(lambda: trainer._engine.evaluate(0), repeats)
    return n_models * len(data) / train, train, evaluate


def report(
    data: Dataset,
    *,
    models: Sequence[int] = (1, 8, 64, 256),
    dtypes: Sequence[str] = DTYPES,
    repeats: int = 3,
    sgemm_n: int = 4096,
    write: Callable[[str], object] = print,
) -> None:
    """Measure and write the benchmark table, one line at a time.

    Parameters
    ----------
    data : Dataset
        Training images of 784 features, 10 classes; one epoch is one pass over them.
    models : sequence of int
        Numbers of models K trained at once.
    dtypes : sequence of str
    repeats : int
        Each figure is the median of this many runs.
    sgemm_n : int
        Size of the matrix product that measures the machine's peak.
    write : callable
        Receives each line of the report.
    """
    peak = sgemm_gflops(sgemm_n, repeats)
    write(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"kernels: {isa()}; numpy sgemm peak (this run): {peak:.0f} GFLOP/s"
    )
    write(f"workload: {list(SIZES)}, m=10, λ=5, {len(data)} samples per epoch")
    write("")
    # The numpy reference is slow: one model on at most a fifth of the data (>= 500).
    numpy_data = data[: max(len(data) // 5, 500)]
    numpy_rate = {
        dtype: epoch_rate(numpy_data, 1, dtype, None, "numpy", repeats)[0] for dtype in dtypes
    }
    header = (
        f"{'K':>4} {'dtype':>8} {'threads':>7} {'model-samples/s':>16} {'GFLOP/s':>8} "
        f"{'% peak':>7} {'× numpy':>8} {'eval/epoch':>10}"
    )
    write(header)
    write("-" * len(header))
    for dtype in dtypes:
        gflops = numpy_rate[dtype] * FLOPS_PER_MODEL_SAMPLE / 1e9
        write(
            f"{1:>4} {dtype:>8} {'numpy':>7} {numpy_rate[dtype]:>16,.0f} {gflops:>8.1f} "
            f"{100 * gflops / peak:>6.0f}% {1.0:>8.2f}"
        )
        for k in models:
            for threads in (1, None):
                rate, train_s, eval_s = epoch_rate(data, k, dtype, threads, "rust", repeats)
                gflops = rate * FLOPS_PER_MODEL_SAMPLE / 1e9
                label = "all" if threads is None else str(threads)
                write(
                    f"{k:>4} {dtype:>8} {label:>7} {rate:>16,.0f} {gflops:>8.1f} "
                    f"{100 * gflops / peak:>6.0f}% {rate / numpy_rate[dtype]:>8.1f} "
                    f"{eval_s / train_s:>10.2f}"
                )
