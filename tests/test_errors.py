"""Bad input: a clear ValueError/TypeError naming the argument, never a panic or a hang."""

from __future__ import annotations

import numpy as np
import pytest

import sgdfast
from sgdfast import _core, _seeding, _validation


def sweep(data, **overrides):
    kwargs = dict(eta=0.1, epochs=1, sizes=(12, 4, 3))
    kwargs.update(overrides)
    return sgdfast.sweep(data, **kwargs)


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [
        (dict(eta=0.0), ValueError, r"eta: .*> 0"),
        (dict(eta=-1.0), ValueError, r"eta: .*> 0"),
        (dict(eta=float("nan")), ValueError, r"eta: .*finite"),
        (dict(eta=float("inf")), ValueError, r"eta: .*finite"),
        (dict(eta=[]), ValueError, r"eta: .*empty"),
        (dict(eta="fast"), TypeError, r"eta: expected real numbers"),
        (dict(eta=[[0.1, 0.2]]), ValueError, r"eta: expected a number or a 1-D"),
        (dict(eta=True), TypeError, r"eta: expected real numbers"),
        (dict(lmbda=-0.1), ValueError, r"lmbda: .*>= 0"),
        (dict(lmbda=float("inf")), ValueError, r"lmbda: .*finite"),
        (dict(batch_size=0), ValueError, r"batch_size: must be >= 1"),
        (dict(batch_size=121), ValueError, r"batch_size: 121 is larger than the training set"),
        (dict(batch_size=2.5), TypeError, r"batch_size: expected an integer"),
        (dict(batch_size=[]), ValueError, r"batch_size: .*empty"),
        (dict(epochs=0), ValueError, r"epochs: must be >= 1"),
        (dict(epochs=1.0), TypeError, r"epochs: expected an integer"),
        (dict(sizes=(12,)), ValueError, r"sizes: need at least an input and an output"),
        (dict(sizes=(13, 4, 3)), ValueError, r"sizes: the input layer has 13 units"),
        (dict(sizes=(12, 4, 2)), ValueError, r"sizes: the output layer has 2 units"),
        (dict(sizes=(12, 0, 3)), ValueError, r"sizes: must be >= 1"),
        (dict(sizes="12,4,3"), TypeError, r"sizes: expected a sequence"),
        (dict(cost="hinge"), ValueError, r"cost: unknown value 'hinge'"),
        (dict(init="zeros"), ValueError, r"init: unknown value 'zeros'"),
        (dict(monitor=("training_loss",)), ValueError, r"monitor: unknown value"),
        (dict(monitor=("evaluation_accuracy",)), ValueError, r"monitor: .*needs evaluation_data"),
        (dict(dtype="float16"), ValueError, r"dtype: expected float32 or float64"),
        (dict(dtype="banana"), TypeError, r"dtype: expected float32 or float64"),
        (dict(seed=-1), ValueError, r"seed: must be >= 0"),
        (dict(n_threads=0), ValueError, r"n_threads: must be >= 1"),
        (dict(group_size=0), ValueError, r"group_size: must be >= 1"),
        (dict(backend="torch"), ValueError, r"backend: unknown value"),
    ],
)
def test_bad_arguments(small_data, overrides, error, pattern):
    with pytest.raises(error, match=pattern):
        sweep(small_data, **overrides)


def test_bad_training_data(small_data):
    X, y = small_data.X, small_data.y
    bad_X = X.copy()
    bad_X[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"training_data: .*NaN"):
        sweep((bad_X, y))
    with pytest.raises(ValueError, match=r"training_data: X must be 2-D"):
        sweep((X[0], y[:1]))
    with pytest.raises(ValueError, match=r"training_data: .*120.*119|training_data: .*119.*120"):
        sweep((X, y[:-1]))
    with pytest.raises(TypeError, match=r"training_data: .*integer class labels"):
        sweep((X, y.astype(float)))
    with pytest.raises(ValueError, match=r"training_data: .*negative|training_data: .*-1"):
        sweep((X, np.where(np.arange(len(y)) == 5, -1, y)))
    with pytest.raises(TypeError, match=r"training_data"):
        sweep("mnist")


def test_labels_beyond_the_output_layer(small_data):
    y = small_data.y.copy()
    y[7] = 5
    with pytest.raises(ValueError, match=r"sizes: the output layer has 3 units but the labels go"):
        sweep((small_data.X, y))


def test_evaluation_data_checked(small_data, small_eval):
    with pytest.raises(ValueError, match=r"evaluation_data: has 11 features"):
        sweep(
            small_data,
            evaluation_data=(small_eval.X[:, :11], small_eval.y),
            monitor=("evaluation_accuracy",),
        )
    with pytest.raises(TypeError, match=r"evaluation_data"):
        sweep(small_data, evaluation_data=42, monitor=("evaluation_accuracy",))


def test_sweep_too_large_for_memory_is_refused_with_the_figure(small_data, monkeypatch):
    monkeypatch.setattr(_validation, "memory_limit_bytes", lambda: 2**20)
    with pytest.raises(ValueError, match=r"needs about [0-9.]+ GiB, more than the 0.0 GiB"):
        sweep(small_data, eta=list(np.linspace(0.1, 1, 50)))


def test_memory_estimate_grows_with_models_and_data():
    from sgdfast._trainer import _estimate_bytes

    one = _estimate_bytes(1, (784, 30, 10), 50_000, 4)  # float32 rows of 784: read in place
    many = _estimate_bytes(1000, (784, 30, 10), 50_000, 4)
    assert one < 2**27
    assert many - one == 999 * 2 * 23_860 * 4
    as_float64 = _estimate_bytes(1, (784, 30, 10), 50_000, 8)  # a converted copy
    assert 50_000 * 784 * 8 < as_float64 < 50_000 * 784 * 8 + 2**27
    padded = _estimate_bytes(1, (20, 5, 2), 100_000, 4)  # rows of 20 padded to 32: a copy
    assert 100_000 * 32 * 4 < padded


class TestCoreRejectsWhatPythonWouldCatch:
    """The compiled engine re-checks what it relies on: errors, not panics."""

    def engine_args(self, data, dtype=np.float64):
        weights, biases = _seeding.initial_params((12, 4, 3), 2, seed=0, dtype=dtype)
        return dict(
            sizes=[12, 4, 3],
            cost="cross_entropy",
            batch_size=10,
            weights=weights,
            biases=biases,
            eta=[0.1, 0.2],
            lmbda=[0.0, 0.0],
            x=data.X.astype(dtype),
            y=data.y,
        )

    def test_wrong_dtype_mix(self, small_data):
        args = self.engine_args(small_data)
        args["x"] = small_data.X  # float32 data, float64 weights
        with pytest.raises(TypeError, match="weights: expected a numpy array of float32"):
            _core.Engine(**args)
        args["x"] = small_data.X.astype(np.int64)
        with pytest.raises(TypeError, match="X: dtype must be float32 or float64"):
            _core.Engine(**args)

    def test_shape_mismatch_and_bad_values(self, small_data):
        args = self.engine_args(small_data)
        args["eta"] = [0.1]
        with pytest.raises(ValueError, match=r"eta: expected 2 values"):
            _core.Engine(**args)
        args = self.engine_args(small_data)
        args["lmbda"] = [0.0, float("nan")]
        with pytest.raises(ValueError, match=r"lmbda: .*finite"):
            _core.Engine(**args)
        args = self.engine_args(small_data)
        args["y"] = np.full(len(small_data), 3, dtype=np.int64)
        with pytest.raises(ValueError, match=r"y: label 3 at index 0 is outside \[0, 3\)"):
            _core.Engine(**args)
        args = self.engine_args(small_data)
        args["x"] = args["x"][:, :11].copy()
        with pytest.raises(ValueError, match=r"X: expected"):
            _core.Engine(**args)
        args = self.engine_args(small_data)
        args["x"] = np.asfortranarray(args["x"])
        with pytest.raises(ValueError, match=r"X: must be C-contiguous"):
            _core.Engine(**args)
        args = self.engine_args(small_data)
        args["cost"] = "hinge"
        with pytest.raises(ValueError, match=r"cost: unknown cost"):
            _core.Engine(**args)

    def test_bad_order_and_dataset(self, small_data):
        engine = _core.Engine(**self.engine_args(small_data))
        with pytest.raises(ValueError, match=r"order: index 120 at position 1"):
            engine.train_epoch(np.array([0, 120], dtype=np.int64))
        with pytest.raises(ValueError, match=r"order: is empty"):
            engine.train_epoch(np.array([], dtype=np.int64))
        with pytest.raises(ValueError, match=r"dataset: no data set 4"):
            engine.evaluate(4)
        with pytest.raises(ValueError, match=r"active: expected 2 values"):
            engine.set_active([True])
        with pytest.raises(ValueError, match=r"eta: every learning rate"):
            engine.set_eta([0.1, -1.0])
