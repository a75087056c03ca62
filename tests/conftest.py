"""Shared fixtures; the ``slow`` marker (full-MNIST runs) is enabled with --runslow."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from sgdfast import Dataset


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run slow full-MNIST tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def make_classification(n: int, n_features: int, n_classes: int, seed: int) -> Dataset:
    """Pixels in [0, 1]; labels from a fixed random linear rule (learnable)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features))
    rule = np.random.default_rng(1234).standard_normal((n_features, n_classes))
    y = np.argmax((X - 0.5) @ rule, axis=1)
    return Dataset.from_arrays(X, y)


@pytest.fixture
def small_data() -> Dataset:
    """120 samples, 12 features, 3 classes."""
    return make_classification(120, 12, 3, seed=0)


@pytest.fixture
def small_eval() -> Dataset:
    return make_classification(50, 12, 3, seed=1)


def assert_main_thread_keeps_running(
    work: Callable[[], object], *, min_seconds: float, max_gap: float = 0.1
) -> None:
    """Run ``work`` in a thread and check the main thread is never blocked for long: the GIL
    is released while it runs."""
    worker = threading.Thread(target=work)
    start = time.perf_counter()
    worker.start()
    ticks = []
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    elapsed = time.perf_counter() - start
    gaps = np.diff([start, *ticks])
    assert elapsed > min_seconds, "too short to tell"
    assert gaps.max() < min(max_gap, elapsed / 2), f"main thread blocked for {gaps.max():.2f}s"
