"""The benchmark: its numpy baselines compute what the engine computes, and its other
measurements (memory, scaling, the plot) report what they claim."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import make_classification
from sgdfast import _bench, _seeding
from sgdfast.reference import NumpyEngine


def test_fused_numpy_baseline_matches_the_reference():
    data = make_classification(95, 784, 10, seed=0)  # 9 full batches and one of 5
    eta = np.array([0.1, 0.5, 2.0])
    params = _seeding.initial_params(_bench.SIZES, 3, seed=0, dtype=np.float64)
    engine = NumpyEngine(
        list(_bench.SIZES),
        "cross_entropy",
        10,
        [p.copy() for p in params[0]],
        [p.copy() for p in params[1]],
        eta.tolist(),
        [5.0] * 3,
        data.X.astype(np.float64),
        data.y,
    )
    engine.train_epoch(np.arange(len(data)))
    _bench.fused_numpy_epoch(data, params, eta, 5.0)
    want_w, want_b = engine.params()
    for got, want in zip(params[0] + params[1], want_w + want_b):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_peak_memory_counts_the_data_it_held(tmp_path: Path) -> None:
    # An empty folder: no MNIST, so the fresh process makes 20,000 random images (60 MiB).
    use = _bench.peak_memory(20_000, 4, "float32", data_path=str(tmp_path))
    if sys.platform == "win32":
        assert use is None
        return
    assert use is not None
    assert use.data == pytest.approx(20_000 * (784 * 4 + 8) / 2**20)
    assert use.params_twice == pytest.approx(2 * 4 * 23_860 * 4 / 2**20)
    # The images were resident at the peak, on top of the interpreter.
    assert use.peak >= use.start + use.data
    assert use.start > 5


def test_scaling_rows_double_each_variable_in_turn() -> None:
    rows = _bench.scaling_rows(make_classification(320, 784, 10, seed=0), "float32", 1)
    assert [(varies, k, n, epochs) for varies, k, n, epochs, _ in rows] == [
        ("K", 16, 80, 1),
        ("K", 32, 80, 1),
        ("K", 64, 80, 1),
        ("K", 128, 80, 1),
        ("n", 64, 20, 1),
        ("n", 64, 40, 1),
        ("n", 64, 80, 1),
        ("epochs", 64, 20, 1),
        ("epochs", 64, 20, 2),
        ("epochs", 64, 20, 4),
    ]
    assert all(seconds > 0 for *_, seconds in rows)


def test_plot_throughput_draws_a_line_per_engine(tmp_path: Path) -> None:
    rows = [
        _bench.Row(1, "float32", "numpy", 1e5),
        _bench.Row(1, "float32", "all", 2e5),
        _bench.Row(8, "float32", "all", 8e5),
        _bench.Row(8, "float32", "np-fused", 3e5),
    ]
    path = tmp_path / "throughput.png"
    _bench.plot_throughput(rows, str(path), "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
