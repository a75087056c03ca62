"""Selecting λ, batch size and hidden layers (and η) by validation accuracy."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import make_classification
from sgdfast.plotting import plot_selection
from sgdfast.selection import Selection, select_hyperparameters
from sgdfast.threshold import find_threshold

TRAIN = make_classification(200, 12, 3, seed=0)
VALIDATION = make_classification(100, 12, 3, seed=1)


@pytest.fixture(scope="module")
def grid() -> Selection:
    return select_hyperparameters(
        TRAIN,
        VALIDATION,
        eta=[0.5, 2.0],
        lmbda=[0.0, 1.0],
        batch_size=[10, 20],
        hidden=[4, (8, 4)],
        epochs=6,
        seed=2,
    )


def test_every_combination_is_a_ranked_candidate(grid):
    assert len(grid.candidates) == 2 * 2 * 2 * 2
    combos = {(c.hidden, c.batch_size, c.lmbda, c.eta) for c in grid.candidates}
    assert len(combos) == 16
    assert {c.hidden for c in grid.candidates} == {(4,), (8, 4)}
    accuracies = [c.accuracy for c in grid.candidates]
    assert accuracies == sorted(accuracies, reverse=True)
    assert grid.best is grid.candidates[0]
    assert set(grid.results) == {((4,), 10), ((4,), 20), ((8, 4), 10), ((8, 4), 20)}
    assert grid.searches == {}


def test_candidates_report_their_sweeps_best_epoch(grid):
    for c in grid.candidates:
        res = grid.results[(c.hidden, c.batch_size)]
        assert res.sizes == (12, *c.hidden, 3)
        k = int(np.flatnonzero((res.eta == c.eta) & (res.lmbda == c.lmbda))[0])
        curve = res.evaluation_accuracy[k]
        assert c.accuracy == np.nanmax(curve)
        assert c.best_epoch == int(np.nanargmax(curve))
        assert c.final_accuracy == curve[-1]


def test_the_same_seed_selects_the_same(grid):
    again = select_hyperparameters(
        TRAIN,
        VALIDATION,
        eta=[0.5, 2.0],
        lmbda=[0.0, 1.0],
        batch_size=[10, 20],
        hidden=[4, (8, 4)],
        epochs=6,
        seed=2,
    )
    assert again.candidates == grid.candidates


def test_eta_by_the_threshold_rule_at_the_largest_lmbda():
    options = dict(epochs=3, resolution=0.25)
    sel = select_hyperparameters(
        TRAIN,
        VALIDATION,
        lmbda=[0.0, 2.0],
        hidden=[6],
        epochs=4,
        seed=3,
        threshold_options=options,
    )
    search = sel.searches[((6,), 10)]
    direct = find_threshold(TRAIN, lmbda=2.0, batch_size=10, sizes=(12, 6, 3), seed=3, **options)
    assert search.threshold == direct.threshold
    assert {c.eta for c in sel.candidates} == {direct.recommendation}
    assert {c.lmbda for c in sel.candidates} == {0.0, 2.0}
    assert "η for hidden=[6], m=10: threshold" in str(sel)


def test_early_stopping_and_schedules_pass_through():
    sel = select_hyperparameters(
        TRAIN, VALIDATION, eta=[1.0, 8.0], hidden=[10], epochs=30, early_stopping=3, seed=5
    )
    res = sel.results[((10,), 10)]
    assert (res.stopped_epoch >= 0).any()
    for c, k in zip(sorted(sel.candidates, key=lambda c: c.eta), range(2)):
        assert c.best_epoch == res.best_epoch[k]


def test_text_and_repr(grid):
    text = str(grid)
    assert text.splitlines()[0].startswith("Hyper-parameter selection by validation accuracy")
    assert len(text.splitlines()) == 2 + 16
    assert repr(grid).startswith("Selection(16 candidates; best: hidden=")


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(hidden="30"), TypeError, r"hidden: expected a non-empty list"),
        (dict(hidden=[]), TypeError, r"hidden: expected a non-empty list"),
        (dict(hidden=[0]), ValueError, r"hidden: must be >= 1"),
        (dict(hidden=[(4, 2.5)]), TypeError, r"hidden: expected an integer"),
        (dict(lmbda=[]), ValueError, r"lmbda: the grid is empty"),
        (dict(eta=-1.0), ValueError, r"eta: every value must be > 0"),
        (dict(epochs=0), ValueError, r"epochs: must be >= 1"),
        (dict(sizes=(12, 3)), TypeError, r"sizes: select_hyperparameters sets this itself"),
        (dict(monitor=()), TypeError, r"monitor: select_hyperparameters sets this itself"),
    ],
)
def test_bad_arguments(kwargs, error, pattern):
    options = dict(eta=1.0, epochs=1)
    options.update(kwargs)
    with pytest.raises(error, match=pattern):
        select_hyperparameters(TRAIN, VALIDATION, **options)


def test_bad_validation_data():
    with pytest.raises(TypeError, match=r"validation_data"):
        select_hyperparameters(TRAIN, "mnist", eta=1.0)


@pytest.fixture
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.mark.usefixtures("close_figures")
@pytest.mark.parametrize("parameter", ["lmbda", "batch_size", "hidden", "eta"])
def test_accuracy_against_each_parameter(grid, parameter):
    ax = plot_selection(grid, parameter)
    lines = ax.get_lines()
    assert len(lines) == 8  # one per combination of the other three parameters
    assert all(len(line.get_xdata()) == 2 for line in lines)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    expected = {"lmbda": ["0", "1"], "batch_size": ["10", "20"], "hidden": ["[4]", "[8, 4]"]}
    if parameter in expected:
        assert ticks == expected[parameter]
    assert ax.get_ylabel() == "Best validation accuracy"
    plotted = sorted(y for line in lines for y in line.get_ydata())
    assert plotted == sorted(c.accuracy for c in grid.candidates)


@pytest.mark.usefixtures("close_figures")
def test_plot_selection_bad_parameter(grid):
    with pytest.raises(ValueError, match=r"parameter: unknown value 'depth'"):
        plot_selection(grid, "depth")
