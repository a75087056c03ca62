"""Throughput of the engine against the numpy reference, measured in one process.

Shared by ``sgdfast bench`` and ``benches/bench_engine.py``. The book's workload:
[784, 30, 10], m = 10, λ = 5, one epoch over the given training images. FLOPs are counted as
6·Σ n_in·n_out per model-sample (forward, backward, update). Each figure is the median of
``repeats`` runs; ratios compare figures from this same process.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _seeding
from ._core import isa
from ._trainer import Trainer
from .data import DataNotFoundError, Dataset, load_mnist
from .reference import n_parameters, sigmoid

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


def book_trainer(data: Dataset, n_models: int, dtype: str, **options: Any) -> Trainer:
    """The benchmark's sweep: the book's network, λ = 5, K learning rates from 0.01 to 1, no
    monitor unless ``options`` asks (any other :class:`Trainer` argument)."""
    options.setdefault("monitor", ())
    return Trainer(
        data,
        eta=list(np.geomspace(0.01, 1.0, n_models)),
        lmbda=5.0,
        sizes=SIZES,
        dtype=dtype,
        **options,
    )


def epoch_rate(
    data: Dataset, n_models: int, dtype: str, n_threads: int | None, backend: str, repeats: int
) -> tuple[float, float, float]:
    """Model-samples per second of one training epoch; the seconds of one epoch and of one
    training-cost evaluation over the same samples."""
    trainer = book_trainer(data, n_models, dtype, n_threads=n_threads, backend=backend)
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


class Row(NamedTuple):
    """One line of the benchmark table."""

    n_models: int
    dtype: str
    #: "numpy" (the reference, one model at a time), "np-fused", or the engine's thread
    #: count: "1" or "all".
    label: str
    rate: float


def scaling_rows(data: Dataset, dtype: str, repeats: int) -> list[tuple[str, int, int, int, float]]:
    """Seconds per model-sample-epoch of the engine (all threads) as K, n and the number of
    epochs double: constant seconds mean time linear in each. Rows: (what varies, K, n,
    epochs, seconds per model-sample-epoch)."""
    n = len(data)
    rows = []

    def measure(varies: str, k: int, samples: int, epochs: int) -> None:
        trainer = book_trainer(data[:samples], k, dtype)

        def run() -> None:
            for _ in range(epochs):
                trainer.run_epoch()

        seconds = median_seconds(run, repeats)
        rows.append((varies, k, samples, epochs, seconds / (k * samples * epochs)))

    for k in (16, 32, 64, 128):
        measure("K", k, n // 4, 1)
    for samples in (n // 16, n // 8, n // 4):
        measure("n", 64, samples, 1)
    for epochs in (1, 2, 4):
        measure("epochs", 64, n // 16, epochs)
    return rows


class MemoryUse(NamedTuple):
    """Peak resident memory of a fresh process that loads the data and trains one epoch."""

    peak: float
    #: Resident memory of the interpreter with sgdfast imported, before any data.
    start: float
    #: Every array the data loader returned (for MNIST: training, validation and test sets).
    data: float
    #: K × parameters × bytes per value, twice (the engine's models and their result).
    params_twice: float


def peak_memory(
    n_samples: int, n_models: int, dtype: str, data_path: str | None = None
) -> MemoryUse | None:
    """Measure :class:`MemoryUse` in a new Python process: MNIST's first ``n_samples``
    training images (random pixels if MNIST is not found), K models, one epoch with the
    training-cost monitor. ``None`` where the OS cannot report peak memory (Windows)."""
    if sys.platform == "win32":
        return None
    code = (
        "import json, sgdfast._bench as b; "
        f"print(json.dumps(b._memory_child({n_samples}, {n_models}, {dtype!r}, {data_path!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return MemoryUse(**json.loads(out.splitlines()[-1]))


def _max_rss_mb() -> float:
    """This process's peak resident memory in MiB."""
    try:
        # Linux: the peak of this program's own memory. ru_maxrss would also count the
        # parent's pages that the fork copied before exec.
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes / KiB


def _memory_child(
    n_samples: int, n_models: int, dtype: str, data_path: str | None
) -> dict[str, float]:
    start = _max_rss_mb()
    try:
        mnist = load_mnist(data_path, download=False, validation_size=1)
        loaded = [mnist.train, mnist.validation, mnist.test]
        data = mnist.train[:n_samples]
    except DataNotFoundError:
        data = synthetic_data(n_samples)
        loaded = [data]
    book_trainer(data, n_models, dtype, monitor=("training_cost",)).run_epoch()
    return {
        "peak": _max_rss_mb(),
        "start": start,
        "data": sum(d.X.nbytes + d.y.nbytes for d in loaded) / 2**20,
        "params_twice": 2 * n_models * n_parameters(SIZES) * np.dtype(dtype).itemsize / 2**20,
    }


def plot_throughput(rows: Sequence[Row], path: str, title: str) -> None:
    """Model-samples per second against K, one line per engine and dtype, saved to ``path``."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend stays as it is

    fig = Figure(figsize=(9, 4.5), tight_layout=True)
    ax = fig.add_subplot()
    styles = {"float32": "-", "float64": "--"}
    names = {
        "all": ("sgdfast, all threads", "tab:blue"),
        "1": ("sgdfast, 1 thread", "tab:cyan"),
        "np-fused": ("numpy, fused", "tab:orange"),
        "numpy": ("numpy, one model at a time", "tab:red"),
    }
    ks = sorted({row.n_models for row in rows})
    for label, (name, color) in names.items():
        for dtype, style in styles.items():
            points = sorted(
                (r.n_models, r.rate) for r in rows if (r.label, r.dtype) == (label, dtype)
            )
            if not points:
                continue
            if label == "numpy":  # K models take K times one model's time: a flat line
                points = [(k, points[0][1]) for k in ks]
            x, y = zip(*points)
            ax.plot(x, y, style, color=color, marker="o", ms=3, label=f"{name} ({dtype})")
    ax.set(xscale="log", yscale="log", xlabel="models trained at once (K)")
    ax.set(ylabel="model-samples per second", title=title)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(path, dpi=120)


def report(
    data: Dataset,
    *,
    models: Sequence[int] = (1, 8, 64, 256),
    dtypes: Sequence[str] = DTYPES,
    repeats: int = 3,
    sgemm_n: int = 4096,
    scaling: bool = False,
    memory: bool = False,
    data_path: str | None = None,
    plot: str | None = None,
    write: Callable[[str], object] = print,
) -> list[Row]:
    """Measure and write the benchmark table, one line at a time; return its rows.

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
    scaling : bool
        Also show that time is linear in K, n and epochs (:func:`scaling_rows`).
    memory : bool
        Also measure peak memory in a fresh process (:func:`peak_memory`) for the largest K.
    data_path : str, optional
        Where the fresh process finds MNIST (as :func:`sgdfast.load_mnist`).
    plot : str, optional
        Save throughput against K here (:func:`plot_throughput`).
    write : callable
        Receives each line of the report.

    Returns
    -------
    list of Row
    """
    rows: list[Row] = []
    peak = sgemm_gflops(sgemm_n, repeats)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    write(f"machine: {machine}, kernels: {isa()}; numpy sgemm peak (this run): {peak:.0f} GFLOP/s")
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
        rows.append(Row(k, dtype, label, rate))
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
    if scaling:
        write("")
        write(f"time per model-sample-epoch as K, n and epochs double ({dtypes[0]}, all threads):")
        scaled = scaling_rows(data, dtypes[0], repeats)
        for varies, k, samples, epochs, seconds in scaled:
            base = next(r[4] for r in scaled if r[0] == varies)
            write(
                f"  {varies:>6}: K={k:<4} n={samples:<6} epochs={epochs}  "
                f"{seconds * 1e9:6.0f} ns  ({seconds / base:.2f}× the first)"
            )
    if memory:
        k = max(models)
        use = peak_memory(len(data), k, dtypes[0], data_path)
        write("")
        if use is None:
            write("memory: peak RSS is not measured on this OS")
        else:
            rest = use.peak - use.data - use.params_twice
            write(
                f"memory (fresh process, K={k}, {dtypes[0]}, one epoch with the training-cost "
                f"monitor): peak RSS {use.peak:.0f} MiB = data {use.data:.0f} MiB "
                f"+ 2·K·parameters {use.params_twice:.0f} MiB + {rest:.0f} MiB "
                f"(of which the interpreter and libraries: {use.start:.0f} MiB)"
            )
    if plot is not None:
        plot_throughput(rows, plot, f"[784, 30, 10], m = 10, {len(data):,} samples; {machine}")
        write(f"plot: {plot}")
    return rows
