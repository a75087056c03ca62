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

from . import _seeding
from ._core import isa
from ._trainer import Trainer
from .data import Dataset
from .reference import sigmoid

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


def fused_numpy_epoch(
    data: Dataset,
    params: tuple[list[np.ndarray], list[np.ndarray]],
    eta: np.ndarray,
    lmbda: float,
    batch_size: int = 10,
) -> None:
    """One epoch of the "fused" numpy baseline for [n_in, h, n_out]: all K first layers as one
    matrix product per step, the second layers batched with ``np.matmul``. The same
    semantics as the engine (network2's update, cross-entropy), trained in place."""
    (w1, w2), (b1, b2) = params
    k, h, n_in = w1.shape
    x, y = data.X.astype(w1.dtype), data.y
    n = len(y)
    w1_flat = w1.reshape(k * h, n_in)  # a view: updating it updates w1
    decay = (1 - eta * (lmbda / n)).astype(w1.dtype)
    targets = np.eye(w2.shape[1], dtype=w1.dtype)
    for start in range(0, n, batch_size):
        xb, yb = x[start : start + batch_size], targets[y[start : start + batch_size]]
        c = (eta / len(xb)).astype(w1.dtype)
        a1 = sigmoid((xb @ w1_flat.T).reshape(len(xb), k, h).transpose(1, 0, 2) + b1[:, None])
        a2 = sigmoid(a1 @ w2.transpose(0, 2, 1) + b2[:, None])  # (K, m, n_out)
        d2 = a2 - yb
        d1 = (d2 @ w2) * a1 * (1 - a1)  # (K, m, h)
        w2 *= decay[:, None, None]
        w2 -= c[:, None, None] * (d2.transpose(0, 2, 1) @ a1)
        b2 -= c[:, None] * d2.sum(axis=1)
        grad1 = d1.transpose(0, 2, 1).reshape(k * h, len(xb)) @ xb
        w1_flat *= np.repeat(decay, h)[:, None]
        w1_flat -= np.repeat(c, h)[:, None] * grad1
        b1 -= c[:, None] * d1.sum(axis=1)


def fused_numpy_rate(data: Dataset, n_models: int, dtype: str, repeats: int) -> float:
    """Model-samples per second of :func:`fused_numpy_epoch`."""
    params = _seeding.initial_params(SIZES, n_models, seed=0, dtype=np.dtype(dtype))
    eta = np.geomspace(0.01, 1.0, n_models)
    seconds = median_seconds(lambda: fused_numpy_epoch(data, params, eta, 5.0), repeats)
    return n_models * len(data) / seconds


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
        f"{'% peak':>7} {'× numpy':>8} {'× fused':>8} {'eval/epoch':>10}"
    )
    write(header)
    write("-" * len(header))

    def row(k: int, dtype: str, label: str, rate: float, fused: float, extra: str = "") -> None:
        gflops = rate * FLOPS_PER_MODEL_SAMPLE / 1e9
        write(
            f"{k:>4} {dtype:>8} {label:>7} {rate:>16,.0f} {gflops:>8.1f} "
            f"{100 * gflops / peak:>6.0f}% {rate / numpy_rate[dtype]:>8.1f} "
            f"{rate / fused:>8.1f} {extra:>10}"
        )

    for dtype in dtypes:
        row(1, dtype, "numpy", numpy_rate[dtype], numpy_rate[dtype])
        for k in models:
            # numpy with every model's first layer as one matrix: the "fused" baseline.
            fused = fused_numpy_rate(numpy_data, k, dtype, repeats)
            row(k, dtype, "np-fused", fused, fused)
            for threads in (1, None):
                rate, train_s, eval_s = epoch_rate(data, k, dtype, threads, "rust", repeats)
                label = "all" if threads is None else str(threads)
                row(k, dtype, label, rate, fused, f"{eval_s / train_s:.2f}")
