"""The benchmark's numpy baselines compute what the engine computes."""

from __future__ import annotations

import numpy as np

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
