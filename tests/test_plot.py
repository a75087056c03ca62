"""Tests for sgdfast.plot_cost on a small real sweep (Agg backend, no display)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

import sgdfast
from conftest import make_classification

ETAS = [0.1, 1.0, 1e4]  # with lmbda = 5 and n = 100, 1 - eta*lmbda/n = -499 for the last
EPOCHS = 4


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result() -> sgdfast.SweepResult:
    train = make_classification(100, 8, 3, seed=0)
    evaluation = make_classification(40, 8, 3, seed=1)
    return sgdfast.sweep(
        train,
        eta=ETAS,
        lmbda=5.0,
        epochs=EPOCHS,
        sizes=(8, 6, 3),
        evaluation_data=evaluation,
        monitor=["training_cost", "evaluation_accuracy"],
        seed=3,
    )


def legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def test_the_sweep_has_one_diverging_model(result: sgdfast.SweepResult) -> None:
    assert result.diverged.tolist() == [False, False, True]


def test_one_line_per_model(result: sgdfast.SweepResult) -> None:
    ax = sgdfast.plot_cost(result)
    assert isinstance(ax, Axes)
    lines = ax.get_lines()
    assert len(lines) == len(ETAS)
    assert result.training_cost is not None
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(EPOCHS))
        np.testing.assert_array_equal(line.get_ydata(), result.training_cost[k])
    assert ax.get_xlabel() == "Epoch"
    assert ax.get_ylabel() == "Training cost"


def test_legend_names_eta_and_divergence(result: sgdfast.SweepResult) -> None:
    labels = legend_labels(sgdfast.plot_cost(result))
    assert len(labels) == len(ETAS)
    for label, eta in zip(labels, ETAS):
        assert f"η = {eta:g}" in label
    assert ["diverged" in label for label in labels] == [False, False, True]
    assert f"diverged at epoch {result.diverged_epoch[2]}" in labels[2]


def test_other_monitor(result: sgdfast.SweepResult) -> None:
    ax = sgdfast.plot_cost(result, monitor="evaluation_accuracy")
    assert result.evaluation_accuracy is not None
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), result.evaluation_accuracy[0])
    assert ax.get_ylabel() == "Evaluation accuracy"


def test_unmonitored_quantity_is_value_error(result: sgdfast.SweepResult) -> None:
    with pytest.raises(ValueError, match=r"^monitor: 'training_accuracy'"):
        sgdfast.plot_cost(result, monitor="training_accuracy")


def test_draws_on_given_axes(result: sgdfast.SweepResult) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    ax = sgdfast.plot_cost(result, ax=right, linewidth=3)
    assert ax is right
    assert len(right.get_lines()) == len(ETAS) and not left.get_lines()
    assert all(line.get_linewidth() == 3 for line in right.get_lines())
    assert plt.get_fignums() == [fig.number]  # no new figure


def test_labels_show_lmbda_and_batch_size_when_they_vary() -> None:
    train = make_classification(60, 5, 2, seed=2)
    res = sgdfast.sweep(train, eta=0.5, lmbda=[0.0, 1.0], batch_size=[10, 20], epochs=2)
    labels = legend_labels(sgdfast.plot_cost(res))
    assert labels == [
        "η = 0.5, λ = 0, m = 10",
        "η = 0.5, λ = 1, m = 10",
        "η = 0.5, λ = 0, m = 20",
        "η = 0.5, λ = 1, m = 20",
    ]
