"""The Rust engine against the numpy reference, and its invariances."""

from __future__ import annotations

import numpy as np
import pytest

import sgdfast
from sgdfast import reference

MONITORS = ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """Relative agreement, scaled by the array's magnitude (weights can sit near zero)."""
    scale = max(float(np.nanmax(np.abs(expected))), 1.0)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), what
    err = float(np.nanmax(np.abs(actual - expected), initial=0.0))
    assert err <= rtol * scale, f"{what}: max abs difference {err:.3g} (scale {scale:.3g})"


def run_both(data, evaluation, **kwargs):
    monitor = MONITORS if evaluation is not None else MONITORS[:2]
    common = dict(evaluation_data=evaluation, monitor=monitor, dtype="float64", seed=3, **kwargs)
    return sgdfast.sweep(data, **common), reference.sweep(data, **common)


@pytest.mark.parametrize("sizes", [(12, 5, 3), (12, 3), (12, 6, 4, 3), (12, 17, 3)])
@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_float64_engine_matches_reference(small_data, small_eval, sizes, cost):
    fast, ref = run_both(
        small_data,
        small_eval,
        sizes=sizes,
        cost=cost,
        eta=[0.05, 0.5, 3.0],
        lmbda=[0.0, 2.0],
        epochs=3,
        batch_size=7,  # 120 = 17·7 + 1: a last partial batch of one sample
    )
    for name in MONITORS:
        assert getattr(fast, name).shape == (6, 3)
        assert_close(getattr(fast, name), getattr(ref, name), 1e-9, name)
    for layer, (a, b) in enumerate(zip(fast.weights, ref.weights)):
        assert_close(a, b, 1e-9, f"weights[{layer}]")
    for layer, (a, b) in enumerate(zip(fast.biases, ref.biases)):
        assert_close(a, b, 1e-9, f"biases[{layer}]")
    assert not fast.diverged.any()


def test_float32_engine_tracks_reference(small_data):
    kwargs = dict(sizes=(12, 8, 3), eta=[0.1, 1.0], lmbda=1.0, epochs=3, seed=5, dtype="float32")
    fast = sgdfast.sweep(small_data, **kwargs)
    ref = reference.sweep(small_data, **kwargs)
    assert fast.weights[0].dtype == np.float32
    assert_close(fast.training_cost, ref.training_cost, 1e-4, "training_cost")


def test_diverging_model_matches_reference_and_leaves_others_alone(small_data):
    # n = 120, λ = 5: the decay factor 1 − ηλ/n is about −400 at η = 10⁴, so the weights
    # grow ×400 per step and overflow float64 within the first epoch's 120 steps.
    kwargs = dict(sizes=(12, 5, 3), lmbda=5.0, epochs=3, batch_size=1)
    fast, ref = run_both(small_data, None, eta=[0.5, 1e4], **kwargs)
    alone = sgdfast.sweep(small_data, eta=[0.5], dtype="float64", seed=3, **kwargs)
    assert list(fast.diverged_epoch) == [-1, 0]
    assert list(ref.diverged_epoch) == [-1, 0]
    assert np.isnan(fast.training_cost[1]).all()
    assert np.isnan(fast.training_accuracy[1]).all()
    np.testing.assert_array_equal(fast.training_cost[0], alone.training_cost[0])
    np.testing.assert_array_equal(fast.weights[0][0], alone.weights[0][0])
    assert_close(fast.training_cost[0], ref.training_cost[0], 1e-9, "surviving model")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bit_identical_across_threads_and_groupings(small_data, dtype):
    kwargs = dict(
        sizes=(12, 9, 3),
        eta=list(np.geomspace(0.01, 10, 7)),
        lmbda=[0.0, 1.0],
        epochs=2,
        dtype=dtype,
        independent_init=True,
        monitor=("training_cost", "training_accuracy"),
    )
    base = sgdfast.sweep(small_data, n_threads=1, group_size=14, **kwargs)
    for n_threads, group_size in [(2, 1), (2, 3), (3, None), (1, 5)]:
        other = sgdfast.sweep(small_data, n_threads=n_threads, group_size=group_size, **kwargs)
        np.testing.assert_array_equal(other.training_cost, base.training_cost)
        np.testing.assert_array_equal(other.training_accuracy, base.training_accuracy)
        for a, b in zip(other.weights + other.biases, base.weights + base.biases):
            np.testing.assert_array_equal(a, b)


def test_a_models_numbers_do_not_depend_on_its_companions(small_data):
    kwargs = dict(sizes=(12, 9, 3), epochs=2, lmbda=0.5, seed=2)
    together = sgdfast.sweep(small_data, eta=[0.03, 0.3, 3.0], **kwargs)
    alone = sgdfast.sweep(small_data, eta=[0.3], **kwargs)
    np.testing.assert_array_equal(together.training_cost[1], alone.training_cost[0])
    np.testing.assert_array_equal(together.weights[0][1], alone.weights[0][0])


def test_same_seed_same_result_other_seed_other_result(small_data):
    kwargs = dict(sizes=(12, 4, 3), eta=0.5, epochs=2)
    a = sgdfast.sweep(small_data, seed=7, **kwargs)
    b = sgdfast.sweep(small_data, seed=7, **kwargs)
    c = sgdfast.sweep(small_data, seed=8, **kwargs)
    np.testing.assert_array_equal(a.training_cost, b.training_cost)
    assert not np.array_equal(a.training_cost, c.training_cost)


def test_training_lowers_the_cost_and_learns(small_data):
    res = sgdfast.sweep(
        small_data,
        sizes=(12, 20, 3),
        eta=2.0,
        epochs=40,
        batch_size=5,
        monitor=("training_cost", "training_accuracy"),
    )
    assert res.training_cost[0, -1] < 0.7 * res.training_cost[0, 0]
    assert res.training_accuracy[0, -1] > 0.8


def test_models_share_initial_weights_unless_independent(small_data):
    shared = sgdfast.Trainer(small_data, eta=[0.1, 0.2], sizes=(12, 4, 3)).result()
    np.testing.assert_array_equal(shared.weights[0][0], shared.weights[0][1])
    indep = sgdfast.Trainer(
        small_data, eta=[0.1, 0.2], sizes=(12, 4, 3), independent_init=True
    ).result()
    np.testing.assert_array_equal(indep.weights[0][0], shared.weights[0][0])
    assert not np.array_equal(indep.weights[0][1], indep.weights[0][0])


def test_default_init_scales_weights_by_fan_in(small_data):
    trainer = sgdfast.Trainer(small_data, eta=0.1, sizes=(12, 400, 3), seed=0)
    large = sgdfast.Trainer(small_data, eta=0.1, sizes=(12, 400, 3), seed=0, init="large")
    w_default = trainer.result().weights[0]
    w_large = large.result().weights[0]
    assert abs(w_default.std() * np.sqrt(12) - 1) < 0.05
    assert abs(w_large.std() - 1) < 0.05
