"""Learning-rate schedules and early stopping: semantics, the reference engine, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import sgdfast
from conftest import make_classification
from sgdfast.schedules import Constant, ReduceOnPlateau, Steps


@pytest.fixture(scope="module")
def data() -> tuple[sgdfast.Dataset, sgdfast.Dataset]:
    """A small problem on which validation accuracy plateaus within a few epochs."""
    return make_classification(200, 12, 3, seed=0), make_classification(100, 12, 3, seed=1)


def run(data, backend="rust", **kwargs):
    train, validation = data
    options = dict(
        eta=[0.1, 1.0, 10.0],
        lmbda=0.5,
        sizes=(12, 10, 3),
        batch_size=10,
        evaluation_data=validation,
        monitor=("training_cost", "evaluation_accuracy"),
        dtype="float64",
        seed=5,
        backend=backend,
    )
    options.update(kwargs)
    epochs = options.pop("epochs", 12)
    return sgdfast.Trainer(train, **options).run(epochs)


def assert_same(fast, ref, rtol=1e-9):
    for name in ("training_cost", "evaluation_accuracy"):
        a, b = getattr(fast, name), getattr(ref, name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=name)
    for a, b in zip(fast.weights + fast.biases, ref.weights + ref.biases):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(fast.eta_per_epoch, ref.eta_per_epoch)
    np.testing.assert_array_equal(fast.best_epoch, ref.best_epoch)
    np.testing.assert_array_equal(fast.stopped_epoch, ref.stopped_epoch)


# --------------------------------------------------------------------------------------------
# Schedules on their own
# --------------------------------------------------------------------------------------------


def test_steps_relative_and_absolute():
    eta0 = np.array([0.25, 1.0])
    relative = Steps({20: 0.1, 30: 0.01})
    np.testing.assert_allclose(relative.eta_at(0, eta0), [0.25, 1.0])
    np.testing.assert_allclose(relative.eta_at(19, eta0), [0.25, 1.0])
    np.testing.assert_allclose(relative.eta_at(20, eta0), [0.025, 0.1])
    np.testing.assert_allclose(relative.eta_at(35, eta0), [0.0025, 0.01])
    absolute = Steps({0: 0.25, 20: [0.025, 0.05]}, relative=False)
    np.testing.assert_allclose(absolute.eta_at(3, eta0), [0.25, 0.25])
    np.testing.assert_allclose(absolute.eta_at(20, eta0), [0.025, 0.05])
    np.testing.assert_allclose(Constant().eta_at(50, eta0), eta0)
    assert repr(relative) == "Steps({20: 0.1, 30: 0.01}, relative=True)"


def test_reduce_on_plateau_cuts_and_ends():
    state = ReduceOnPlateau(factor=2, patience=2, min_ratio=1 / 8).start(np.array([1.0, 4.0]))
    accuracies = [0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    etas, finished = [], []
    for epoch, a in enumerate(accuracies):
        state.update(epoch, np.array([a, np.nan]))  # the second model never improves
        etas.append(state.eta.tolist())
        finished.append(state.finished.tolist())
    assert [e[0] for e in etas] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]
    assert [f[0] for f in finished] == [False] * 8 + [True, True]
    assert [e[1] for e in etas] == [4, 2, 2, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert finished[5][1] and not finished[4][1]
    assert repr(ReduceOnPlateau()) == "ReduceOnPlateau(factor=2, patience=10, min_ratio=1/128)"


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: Steps({}), TypeError, r"milestones: expected a non-empty mapping"),
        (lambda: Steps([0.1]), TypeError, r"milestones: expected a non-empty mapping"),
        (lambda: Steps({-1: 0.1}), ValueError, r"milestones: must be >= 0"),
        (lambda: Steps({5: 0.0}), ValueError, r"milestones: every value must be > 0"),
        (lambda: ReduceOnPlateau(factor=1.0), ValueError, r"factor: must be a finite number > 1"),
        (lambda: ReduceOnPlateau(patience=0), ValueError, r"patience: must be >= 1"),
        (lambda: ReduceOnPlateau(min_ratio=1.0), ValueError, r"min_ratio: must lie in \(0, 1\)"),
    ],
)
def test_bad_schedules(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_trainer_checks_schedule_and_early_stopping(data):
    train, _ = data
    kwargs = dict(eta=0.1, sizes=(12, 4, 3))
    with pytest.raises(TypeError, match=r"schedule: expected a Schedule"):
        sgdfast.Trainer(train, schedule="halve", **kwargs)
    with pytest.raises(ValueError, match=r"early_stopping: needs evaluation_data"):
        sgdfast.Trainer(train, early_stopping=10, **kwargs)
    with pytest.raises(ValueError, match=r"schedule: needs evaluation_data"):
        sgdfast.Trainer(train, schedule=ReduceOnPlateau(), **kwargs)
    with pytest.raises(ValueError, match=r"early_stopping: must be >= 1"):
        sgdfast.Trainer(train, early_stopping=0, evaluation_data=train, **kwargs)
    with pytest.raises(ValueError, match=r"milestones: a value has 2 entries; expected 1 or one"):
        sgdfast.Trainer(train, schedule=Steps({0: [0.1, 0.2]}, relative=False), **kwargs)


# --------------------------------------------------------------------------------------------
# In the trainer, against the reference engine
# --------------------------------------------------------------------------------------------


def test_steps_match_the_reference_and_manual_set_eta(data):
    schedule = {4: 0.1, 8: 0.01}  # a mapping is short for Steps(mapping)
    fast = run(data, schedule=schedule)
    ref = run(data, backend="numpy", schedule=Steps(schedule))
    assert_same(fast, ref)
    np.testing.assert_allclose(fast.eta_per_epoch[1], [1.0] * 4 + [0.1] * 4 + [0.01] * 4)
    np.testing.assert_array_equal(fast.eta, [0.1, 1.0, 10.0])  # the initial η
    assert (fast.stopped_epoch == -1).all()
    eta0 = np.array([0.1, 1.0, 10.0])
    manual = sgdfast.Trainer(
        data[0], eta=eta0, lmbda=0.5, sizes=(12, 10, 3), dtype="float64", seed=5
    )
    for epoch in range(12):
        manual.set_eta(eta0 * (0.01 if epoch >= 8 else 0.1 if epoch >= 4 else 1.0))
        manual.run_epoch()
    np.testing.assert_array_equal(manual.result().training_cost, fast.training_cost)


def test_constant_schedule_changes_nothing(data):
    plain = run(data)
    constant = run(data, schedule=Constant())
    np.testing.assert_array_equal(plain.training_cost, constant.training_cost)
    np.testing.assert_array_equal(constant.eta_per_epoch, np.repeat(plain.eta[:, None], 12, 1))


def test_plateau_schedule_matches_the_reference(data):
    schedule = ReduceOnPlateau(factor=2, patience=2, min_ratio=1 / 8)
    fast = run(data, schedule=schedule, epochs=25)
    ref = run(data, backend="numpy", schedule=schedule, epochs=25)
    assert_same(fast, ref)
    assert (np.nanmin(fast.eta_per_epoch, axis=1) < fast.eta).all(), "every model was cut"
    ended = fast.stopped_epoch >= 0
    assert ended.any(), "some model reached η0/8"
    for k in np.flatnonzero(ended):
        last = fast.stopped_epoch[k]
        assert np.isnan(fast.training_cost[k, last + 1 :]).all()
        assert np.isfinite(fast.training_cost[k, : last + 1]).all()
        assert fast.eta_per_epoch[k, last] == fast.eta[k] / 4  # the last η before η0/8


def test_early_stopping_matches_the_reference_and_keeps_the_best_weights(data):
    fast = run(data, early_stopping=3, epochs=30)
    ref = run(data, backend="numpy", early_stopping=3, epochs=30)
    assert_same(fast, ref)
    acc = fast.evaluation_accuracy
    assert (fast.stopped_epoch >= 0).all(), "every model stopped within 30 epochs"
    for k in range(fast.n_models):
        best, stopped = fast.best_epoch[k], fast.stopped_epoch[k]
        assert stopped - best == 3
        assert acc[k, best] == np.nanmax(acc[k]) and acc[k, best] > np.nanmax(
            acc[k, :best], initial=0
        )
        # its weights are those after epoch `best`: the same as training best + 1 epochs
        short = run(data, eta=[fast.eta[k]], epochs=int(best) + 1)
        for a, b in zip(fast.weights + fast.biases, short.weights + short.biases):
            np.testing.assert_array_equal(a[k], b[0])


def test_early_stopping_with_a_schedule(data):
    kwargs = dict(early_stopping=6, schedule=ReduceOnPlateau(factor=10, patience=2), epochs=30)
    assert_same(run(data, **kwargs), run(data, backend="numpy", **kwargs))


def test_bit_identical_across_threads(data):
    kwargs = dict(
        eta=list(np.geomspace(0.1, 30, 6)),
        early_stopping=4,
        schedule=ReduceOnPlateau(factor=2, patience=2),
        dtype="float32",
        independent_init=True,
        epochs=20,
    )
    base = run(data, n_threads=1, group_size=6, **kwargs)
    other = run(data, n_threads=2, group_size=1, **kwargs)
    for name in ("training_cost", "evaluation_accuracy", "eta_per_epoch"):
        np.testing.assert_array_equal(getattr(base, name), getattr(other, name))
    for a, b in zip(base.weights, other.weights):
        np.testing.assert_array_equal(a, b)


def test_a_stopped_model_leaves_the_others_alone(data):
    together = run(data, early_stopping=2, epochs=15)
    alone = run(data, eta=[1.0], early_stopping=2, epochs=15)
    np.testing.assert_array_equal(together.training_cost[1], alone.training_cost[0])
    np.testing.assert_array_equal(together.weights[0][1], alone.weights[0][0])


def test_training_ends_when_every_model_stopped(data):
    res = run(data, early_stopping=1, epochs=40)
    assert (res.stopped_epoch >= 0).all()
    assert res.training_cost.shape == (3, 40)
    assert np.isnan(res.training_cost[:, res.stopped_epoch.max() + 1 :]).all()


def test_sweep_over_batch_sizes_keeps_the_stopping_fields(data):
    train, validation = data
    res = sgdfast.sweep(
        train,
        eta=[0.5, 5.0],
        batch_size=[10, 20],
        epochs=10,
        sizes=(12, 10, 3),
        evaluation_data=validation,
        early_stopping=3,
        schedule={5: 0.5},
    )
    assert res.best_epoch.shape == res.stopped_epoch.shape == (4,)
    assert res.eta_per_epoch.shape == (4, 10)
    assert res.config["early_stopping"] == 3
    assert res.config["schedule"] == "Steps({5: 0.5}, relative=True)"
    assert "evaluation_accuracy" in res.config["monitor"]
