"""Choosing the other hyper-parameters by validation accuracy (chapter 3).

The book's division of labour: the learning rate from the training cost (the threshold
search, :mod:`sgdfast.threshold`), everything else (λ, mini-batch size, hidden layers) from
the accuracy on held-out validation data. :func:`select_hyperparameters` does both for a grid
in one call and ranks the candidates.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _validation as check
from ._result import SweepResult
from ._trainer import DataLike, Trainer
from .data import as_dataset
from .threshold import ThresholdSearch, find_threshold

__all__ = ["Candidate", "Selection", "select_hyperparameters"]

PARAMETERS = ("hidden", "batch_size", "lmbda", "eta")
"""The hyper-parameters a selection varies, in the order candidates list them."""

Group = tuple[tuple[int, ...], int]
"""Models that train in one fused engine: (hidden layer sizes, batch size)."""


@dataclass(frozen=True)
class Candidate:
    """One point of the grid and how well it did on the validation data.

    Attributes
    ----------
    hidden : tuple of int
        Hidden layer sizes.
    batch_size : int
    lmbda : float
    eta : float
        The (initial) learning rate.
    accuracy : float
        Best validation accuracy over the epochs (NaN if it diverged at once).
    best_epoch : int
        The epoch of ``accuracy`` (0-based), -1 if none.
    final_accuracy : float
        Validation accuracy after the last epoch it trained.
    diverged : bool
    """

    hidden: tuple[int, ...]
    batch_size: int
    lmbda: float
    eta: float
    accuracy: float
    best_epoch: int
    final_accuracy: float
    diverged: bool

    def value(self, parameter: str) -> Any:
        """The candidate's ``parameter`` (one of :data:`PARAMETERS`)."""
        check.choice(parameter, "parameter", PARAMETERS)
        return getattr(self, parameter)


@dataclass(frozen=True)
class Selection:
    """The ranked outcome of :func:`select_hyperparameters`.

    Attributes
    ----------
    candidates : list of Candidate
        Best validation accuracy first (ties: grid order).
    results : dict
        The sweep of each fused group, keyed by ``(hidden, batch_size)``.
    searches : dict
        The threshold search that chose η for each group (empty when η was given).
    seconds : float
    """

    candidates: list[Candidate]
    results: dict[Group, SweepResult]
    searches: dict[Group, ThresholdSearch] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def best(self) -> Candidate:
        """The candidate with the highest validation accuracy."""
        return self.candidates[0]

    def __repr__(self) -> str:
        b = self.best
        return (
            f"Selection({len(self.candidates)} candidates; best: hidden={list(b.hidden)}, "
            f"batch_size={b.batch_size}, lmbda={b.lmbda:g}, eta={b.eta:.3g}, "
            f"accuracy={b.accuracy:.4f})"
        )

    def __str__(self) -> str:
        lines = [
            f"Hyper-parameter selection by validation accuracy: {len(self.candidates)} "
            f"candidates in {len(self.results)} fused group(s), {self.seconds:.1f} s",
            "  rank  hidden        m        λ         η   best acc  epoch  final acc",
        ]
        for rank, c in enumerate(self.candidates, 1):
            note = "  diverged" if c.diverged else ""
            lines.append(
                f"  {rank:4d}  {list(c.hidden)!s:<12} {c.batch_size:3d} {c.lmbda:8.3g} "
                f"{c.eta:9.3g}   {c.accuracy:8.4f}  {c.best_epoch:5d}  {c.final_accuracy:9.4f}"
                f"{note}"
            )
        for (hidden, m), search in self.searches.items():
            lines.append(
                f"  η for hidden={list(hidden)}, m={m}: threshold {search.threshold:.3g} "
                f"(λ = {search.settings['lmbda']:g}) → {search.recommendation:.3g}"
            )
        return "\n".join(lines)


def select_hyperparameters(
    training_data: DataLike,
    validation_data: DataLike,
    *,
    lmbda: float | Sequence[float] = 0.0,
    batch_size: int | Sequence[int] = 10,
    hidden: Sequence[int | Sequence[int]] = (30,),
    eta: float | Sequence[float] | None = None,
    epochs: int = 30,
    seed: int = 0,
    threshold_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Selection:
    """Train every combination of λ, mini-batch size and hidden layers (and η), and rank
    them by validation accuracy.

    By default η is not a grid: each (hidden, batch size) pair gets the recommendation of a
    threshold search (:func:`sgdfast.threshold.find_threshold`) on the training cost, run at
    the grid's largest λ, the most restrictive one (L2 adds λ/n to the curvature, which only
    lowers the threshold). Every (hidden, batch size) pair is one fused sweep over λ (× η);
    these groups, whose networks differ in shape or step count, run one after another, each
    on every core.

    Parameters
    ----------
    training_data, validation_data : Dataset or (X, y)
    lmbda : float or sequence of float
    batch_size : int or sequence of int
    hidden : sequence
        Hidden-layer configurations: an int is one hidden layer of that size, a sequence
        of ints several layers, ``()`` none. Default one layer of 30 (the book's network).
    eta : float or sequence of float, optional
        Learning rates to include in the grid instead of the threshold rule.
    epochs : int
    seed : int
        Same seed, same selection.
    threshold_options : dict, optional
        Extra arguments for :func:`~sgdfast.threshold.find_threshold` (start, resolution,
        epochs, ...).
    **kwargs
        Other :class:`sgdfast.Trainer` arguments: cost, init, dtype, schedule,
        early_stopping, n_threads, backend, ...

    Returns
    -------
    Selection

    Examples
    --------
    >>> import numpy as np
    >>> from sgdfast.selection import select_hyperparameters
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((600, 10)); y = (X[:, :5].sum(axis=1) > 2.5).astype(int)
    >>> sel = select_hyperparameters((X[:400], y[:400]), (X[400:], y[400:]), eta=1.0,
    ...                              lmbda=[0.0, 1.0], hidden=[4, (8, 4)], epochs=5)
    >>> len(sel.candidates), sel.best.accuracy >= sel.candidates[-1].accuracy
    (4, True)
    """
    began = time.perf_counter()
    train = as_dataset(training_data, name="training_data")
    validation = as_dataset(validation_data, name="validation_data")
    lmbdas = check.real_grid(lmbda, "lmbda", strictly_positive=False)
    etas = None if eta is None else check.real_grid(eta, "eta", strictly_positive=True)
    epochs = check.positive_int(epochs, "epochs")
    layouts = _hidden_layouts(hidden)
    n_out = max(train.n_classes, validation.n_classes)
    for name in ("sizes", "evaluation_data", "monitor"):
        if name in kwargs:
            raise TypeError(f"{name}: select_hyperparameters sets this itself")
    results: dict[Group, SweepResult] = {}
    searches: dict[Group, ThresholdSearch] = {}
    for layout, m in itertools.product(layouts, check.int_grid(batch_size, "batch_size")):
        sizes = (train.n_features, *layout, n_out)
        group_etas = etas
        if group_etas is None:
            search = _threshold_search(
                train, sizes, m, max(lmbdas), seed, threshold_options, kwargs
            )
            searches[(layout, m)] = search
            group_etas = [search.recommendation]
        trainer = Trainer(
            train,
            eta=group_etas,
            lmbda=lmbdas,
            batch_size=m,
            sizes=sizes,
            evaluation_data=validation,
            monitor=("evaluation_accuracy",),
            seed=seed,
            **kwargs,
        )
        results[(layout, m)] = trainer.run(epochs)
    candidates = [c for group, res in results.items() for c in _candidates(group, res)]
    candidates.sort(key=lambda c: -c.accuracy if math.isfinite(c.accuracy) else math.inf)
    return Selection(candidates, results, searches, time.perf_counter() - began)


def _threshold_search(
    train: Any,
    sizes: tuple[int, ...],
    batch_size: int,
    lmbda: float,
    seed: int,
    options: dict[str, Any] | None,
    trainer_kwargs: dict[str, Any],
) -> ThresholdSearch:
    shared = {
        k: v
        for k, v in trainer_kwargs.items()
        if k in ("cost", "init", "dtype", "independent_init", "n_threads", "group_size", "backend")
    }
    return find_threshold(
        train,
        lmbda=lmbda,
        batch_size=batch_size,
        sizes=sizes,
        seed=seed,
        **{**shared, **(options or {})},
    )


def _candidates(group: Group, result: SweepResult) -> list[Candidate]:
    layout, _ = group
    accuracy = result.evaluation_accuracy
    assert accuracy is not None
    rows = []
    for k in range(result.n_models):
        curve = accuracy[k]
        trained = np.flatnonzero(np.isfinite(curve))
        best = int(trained[np.argmax(curve[trained])]) if trained.size else -1
        rows.append(
            Candidate(
                hidden=layout,
                batch_size=int(result.batch_size[k]),
                lmbda=float(result.lmbda[k]),
                eta=float(result.eta[k]),
                accuracy=float(curve[best]) if best >= 0 else math.nan,
                best_epoch=best,
                final_accuracy=float(curve[trained[-1]]) if trained.size else math.nan,
                diverged=bool(result.diverged[k]),
            )
        )
    return rows


def _hidden_layouts(hidden: object) -> list[tuple[int, ...]]:
    """``hidden=`` as a list of hidden-layer tuples."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or not hidden:
        raise TypeError(
            f"hidden: expected a non-empty list of hidden-layer configurations (an int or a "
            f"sequence of ints each), got {hidden!r}"
        )
    layouts = []
    for entry in hidden:
        layers = [entry] if not isinstance(entry, Sequence) else list(entry)
        layouts.append(tuple(check.positive_int(n, "hidden") for n in layers))
    return list(dict.fromkeys(layouts))
