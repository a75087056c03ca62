"""The learning-rate threshold search of chapter 3, on the fused engine.

Nielsen's recipe: find the largest η at which the training cost immediately begins to
decrease rather than oscillate or increase, to within a factor of 10 by trying η = 0.01, 0.1,
1, ... (or 0.001, ...), refine it inside that decade, and train at half of it.

Here every probe trains for a short window (default: one epoch) and measures the training
cost at ``points`` moments on a fixed subsample of the training set, so a probe's curve has
sub-epoch resolution at a small fraction of an epoch's cost. :func:`classify_curve` names a
curve's shape (decreasing, oscillating, diverging); the ×10 phase brackets the threshold; the
refinement trains a log-spaced grid inside the bracket in one fused sweep, where every probe
sees the same initial weights and mini-batches, so neighbouring η differ only by η.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _seeding
from . import _validation as check
from ._trainer import DataLike, Trainer
from .data import as_dataset

__all__ = [
    "CLASSES",
    "Probe",
    "ThresholdNotFoundError",
    "ThresholdSearch",
    "classify_curve",
    "find_threshold",
    "monotonicity",
]

CLASSES = ("decreasing", "oscillating", "diverging")
"""The shapes :func:`classify_curve` tells apart."""

_POINTS = 20  # default cost measurements per probe

_SYMBOLS = {"decreasing": "↓", "oscillating": "~", "diverging": "↑"}

# Trainer arguments the search sets itself.
_RESERVED = ("eta", "monitor", "evaluation_data", "schedule", "early_stopping", "monitor_subsample")


# --------------------------------------------------------------------------------------------
# Classifying a curve
# --------------------------------------------------------------------------------------------


def monotonicity(curve: Sequence[float] | np.ndarray, *, tolerance: float = 1e-3) -> float:
    """How steadily a curve falls: net fall over total movement, in [-1, 1].

    ``(falls - rises) / (falls + rises)``, where ``falls`` and ``rises`` sum the curve's
    downward and upward steps; of a rise only the part beyond ``tolerance`` times the cost
    level counts (smaller ones are noise). 1: never rises; 0: rises undo every fall; -1: never
    falls. A flat curve gives 1.

    Examples
    --------
    >>> from sgdfast.threshold import monotonicity
    >>> monotonicity([4.0, 3.0, 2.0, 1.0])
    1.0
    >>> monotonicity([4.0, 2.0, 3.0, 1.0], tolerance=0)    # falls 2 + 2, rises 1
    0.6
    """
    c = np.asarray(curve, dtype=np.float64)
    steps = np.diff(c)
    rises = np.maximum(steps - tolerance * np.abs(c[:-1]), 0.0).sum()
    falls = np.maximum(-steps, 0.0).sum()
    total = falls + rises
    return 1.0 if total == 0 else float((falls - rises) / total)


def classify_curve(
    curve: Sequence[float] | np.ndarray,
    *,
    burn_in: int = 0,
    min_monotonicity: float = 0.5,
    tolerance: float = 1e-3,
) -> str:
    """Name the shape of an early training-cost curve: "decreasing", "oscillating" or
    "diverging".

    The rules, in order:

    1. **diverging** if any value is NaN or infinite, or if the cost ever rises above its
       first value ``curve[0]`` by more than ``tolerance`` (relative): it increases.
    2. **decreasing** if the curve after the first ``burn_in`` points falls steadily:
       :func:`monotonicity` >= ``min_monotonicity``. The default 0.5 means the rises undo at
       most a third of the falls (net fall at least half of the total movement), so noise
       on a falling curve is not oscillation.
    3. **oscillating** otherwise: ups and downs beyond noise, without a net rise.

    Parameters
    ----------
    curve : sequence of float
        The cost at successive moments, at least two (after ``burn_in``).
    burn_in : int
        Leading points left out of rule 2 (still used by rule 1). The threshold search uses
        1: its curves start with the cost of the initial weights, whose first steep fall is
        common to every η and would hide the oscillation that follows.
    min_monotonicity : float
        In (-1, 1].
    tolerance : float
        Relative size of a rise that is noise, >= 0.

    Examples
    --------
    >>> from sgdfast.threshold import classify_curve
    >>> classify_curve([3.0, 2.0, 1.6, 1.65, 1.3])     # a wiggle within a steady fall
    'decreasing'
    >>> classify_curve([3.0, 2.0, 2.6, 1.9, 2.5, 1.8])
    'oscillating'
    >>> classify_curve([3.0, 2.5, 3.4, 6.0])
    'diverging'
    >>> classify_curve([3.0, float("nan")])
    'diverging'
    """
    c = _curve(curve, "curve")
    burn_in = check.positive_int(burn_in, "burn_in", minimum=0)
    if len(c) - burn_in < 2:
        raise ValueError(
            f"curve: needs at least 2 points after burn_in={burn_in}, got {len(c)} in all"
        )
    min_monotonicity = check.real_in(min_monotonicity, "min_monotonicity", -1.0, 1.0)
    tolerance = check.real_in(tolerance, "tolerance", 0.0, math.inf, open_low=False)
    if not np.isfinite(c).all():
        return "diverging"
    if c[1:].max() > c[0] + tolerance * abs(c[0]):
        return "diverging"
    if monotonicity(c[burn_in:], tolerance=tolerance) >= min_monotonicity:
        return "decreasing"
    return "oscillating"


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One η tried by the search.

    Attributes
    ----------
    eta : float
    curve : ndarray
        Training cost at the search's ``times``: first the initial weights', then after each
        stretch of training (NaN after a divergence).
    kind : str
        Its class (:data:`CLASSES`).
    phase : str
        "bracket" (the ×10 phase) or "refine".
    """

    eta: float
    curve: np.ndarray
    kind: str
    phase: str

    @property
    def decreasing(self) -> bool:
        return self.kind == "decreasing"

    @property
    def change(self) -> float:
        """Relative change of the cost over the window: last value / initial value - 1."""
        return float(self.curve[-1] / self.curve[0] - 1)

    @property
    def monotonicity(self) -> float:
        """:func:`monotonicity` of the curve after its initial point."""
        return monotonicity(self.curve[1:])


@dataclass(frozen=True)
class ThresholdSearch:
    """What :func:`find_threshold` found, and every probe it took.

    Attributes
    ----------
    threshold : float
        The largest η of the refinement grid whose cost still decreases (see
        :func:`find_threshold`).
    recommendation : float
        ``threshold / safety_factor``: the learning rate to train with.
    bracket : (float, float)
        The ×10 phase's result: the cost decreases at ``bracket[0]`` and not at
        ``bracket[1]``.
    grid_ratio : float
        Ratio of neighbouring η in the refinement grid: the threshold's resolution.
    probes : list of Probe
        In the order they ran: the ×10 phase, then the grid.
    times : ndarray
        When each curve point was measured, in epochs of training.
    model_epochs : float
        Training spent, in epochs of one model (probes that diverged stop early).
    seconds : float
        Wall-clock time of the search.
    settings : dict
        The search's parameters and the network's (sizes, λ, batch size, seed, ...).
    """

    threshold: float
    recommendation: float
    bracket: tuple[float, float]
    grid_ratio: float
    probes: list[Probe]
    times: np.ndarray
    model_epochs: float
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def eta(self) -> np.ndarray:
        """Every probe's η, in the order they ran."""
        return np.array([p.eta for p in self.probes])

    @property
    def curves(self) -> np.ndarray:
        """Every probe's curve, shape (probes, points + 1)."""
        return np.stack([p.curve for p in self.probes])

    @property
    def kinds(self) -> list[str]:
        return [p.kind for p in self.probes]

    def __repr__(self) -> str:
        return (
            f"ThresholdSearch(threshold={self.threshold:.4g}, "
            f"recommendation={self.recommendation:.4g}, "
            f"bracket=({self.bracket[0]:g}, {self.bracket[1]:g}), probes={len(self.probes)}, "
            f"model_epochs={self.model_epochs:.3g})"
        )

    def __str__(self) -> str:
        s = self.settings
        bracket = [p for p in self.probes if p.phase == "bracket"]
        grid = sorted((p for p in self.probes if p.phase == "refine"), key=lambda p: p.eta)
        lines = [
            f"Learning-rate threshold search: {list(s['sizes'])}, λ = {s['lmbda']:g}, "
            f"m = {s['batch_size']}, seed {s['seed']}",
            f"  threshold       η = {self.threshold:.3g}   largest η whose training cost "
            f"decreases over the first {_epochs(s['epochs'])}",
            f"  recommendation  η = {self.recommendation:.3g}   threshold / {s['safety_factor']:g}",
            f"  bracket         [{self.bracket[0]:g}, {self.bracket[1]:g}]   "
            f"grid step {100 * (self.grid_ratio - 1):.1f}%",
            f"  cost            {len(self.probes)} probes, {self.model_epochs:.3g} "
            f"model-epochs, {self.seconds:.1f} s",
            f"  ×{s['factor']:g} phase:",
            "           η  class         cost change  monotonicity",
        ]
        for p in sorted(bracket, key=lambda p: p.eta):
            lines.append(
                f"    {p.eta:8.3g}  {p.kind:<12}  {_percent(p.change):>11}  {p.monotonicity:12.2f}"
            )
        if grid:
            symbols = "".join(_SYMBOLS[p.kind] for p in grid)
            lines.append(
                f"  refinement, {len(grid)} η from {grid[0].eta:.3g} to {grid[-1].eta:.3g} "
                f"(↓ decreasing, ~ oscillating, ↑ diverging):"
            )
            lines.append(f"    {symbols}")
        return "\n".join(lines)


class ThresholdNotFoundError(RuntimeError):
    """The ×10 phase found no change of class within ``max_steps`` powers of ``factor``.

    ``probes`` holds what it tried.
    """

    def __init__(self, message: str, probes: list[Probe]):
        super().__init__(message)
        self.probes = probes


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


def find_threshold(
    data: DataLike,
    start: float = 0.01,
    factor: float = 10.0,
    *,
    lmbda: float = 0.0,
    batch_size: int = 10,
    epochs: float = 1.0,
    points: int | None = None,
    cost_sample: int | None = 2000,
    resolution: float = 0.05,
    safety_factor: float = 2.0,
    min_monotonicity: float = 0.5,
    max_steps: int = 8,
    parallel: int | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> ThresholdSearch:
    """Estimate the learning-rate threshold: the largest η at which the training cost
    decreases from the start, rather than oscillating or increasing (chapter 3).

    1. **×factor phase.** Train at η = ``start``; if the cost decreases, try ``start·factor``,
       ``start·factor²``, ... until it does not; otherwise ``start/factor``, ... until it
       does. This brackets the threshold within a factor ``factor``.
    2. **Refinement.** Train a log-spaced grid inside the bracket, neighbours at most
       ``1 + resolution`` apart, in one fused sweep; the threshold is the grid η at which a
       single step best separates decreasing from non-decreasing probes (the number of probes
       on the wrong side is least; ties go to the smaller η), so one noisy probe does not
       decide it. Its resolution is the grid step.
    3. **Recommendation**: ``threshold / safety_factor`` (the book: half).

    Every probe trains for ``epochs`` epochs from the same initial weights over the same
    mini-batches (the seeded order of :func:`sgdfast.sweep`) and records the training cost
    (L2 term included) before training and at ``points`` evenly spaced moments, on a fixed
    random subsample of ``cost_sample`` training samples; :func:`classify_curve` with
    ``burn_in=1`` names its shape.

    Parameters
    ----------
    data : Dataset or (X, y)
        The training data.
    start : float
        First η tried (> 0).
    factor : float
        Step of the bracketing phase (> 1).
    lmbda, batch_size : float, int
        L2 parameter and mini-batch size of the network being tuned.
    epochs : float
        Training per probe, in epochs (> 0): "the first few epochs". On MNIST one epoch
        measured at 20 points already tells η = 0.1 (monotonicity 0.99) from η = 1 (0.36).
    points : int, optional
        Cost measurements per probe after the initial one (>= 2), at most the number of
        mini-batches in the window; default 20, or that number if smaller.
    cost_sample : int or None
        Training samples the cost is measured on (None or more than the data: all).
    resolution : float
        Largest relative step of the refinement grid (> 0): 0.05 gives 5%.
    safety_factor : float
        The recommendation is ``threshold / safety_factor`` (>= 1).
    min_monotonicity : float
        Passed to :func:`classify_curve`.
    max_steps : int
        Powers of ``factor`` tried in each direction before giving up with
        :class:`ThresholdNotFoundError`.
    parallel : int, optional
        How many probes of the ×factor phase train together as one fused sweep, in the
        current direction (``start``, ``start·factor``, ... first). 1 is the book's one at a
        time. Default: one per core, and at least 3: on MNIST with two cores the ×10 phase
        from 0.01 took 2.0 s one at a time, 1.25 s three at once and 2.6 s seven at once.
    seed : int
        Initial weights, mini-batch order and cost subsample: same seed, same search.
    **kwargs
        Other :class:`sgdfast.Trainer` arguments: sizes, cost, init, dtype, independent_init,
        n_threads, group_size, backend.

    Returns
    -------
    ThresholdSearch

    Examples
    --------
    >>> import numpy as np
    >>> from sgdfast.threshold import find_threshold
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((500, 10)); y = (X[:, :5].sum(axis=1) > 2.5).astype(int)
    >>> search = find_threshold((X, y), sizes=(10, 8, 2), epochs=4, points=10, seed=1)
    >>> search.bracket[0] < search.threshold < search.bracket[1]
    True
    >>> search.recommendation == search.threshold / 2
    True
    """
    began = time.perf_counter()
    train = as_dataset(data, name="data")
    start = check.positive_real(start, "start")
    factor = check.positive_real(factor, "factor", minimum=1.0)
    epochs = check.positive_real(epochs, "epochs")
    points = None if points is None else check.positive_int(points, "points", minimum=2)
    resolution = check.positive_real(resolution, "resolution")
    safety_factor = check.real_in(safety_factor, "safety_factor", 1.0, math.inf, open_low=False)
    max_steps = check.positive_int(max_steps, "max_steps")
    if cost_sample is not None:
        cost_sample = check.positive_int(cost_sample, "cost_sample")
    at_once = _probes_at_once(parallel, kwargs.get("n_threads"))
    for name in _RESERVED:
        if name in kwargs:
            raise TypeError(f"{name}: find_threshold sets this itself")
    probe_run = _ProbeRun(
        train,
        lmbda=lmbda,
        batch_size=batch_size,
        epochs=epochs,
        points=points,
        cost_sample=cost_sample,
        min_monotonicity=min_monotonicity,
        seed=seed,
        trainer_kwargs=kwargs,
    )
    found = _bracket(probe_run, start, factor, max_steps, min(at_once, max_steps + 1))
    low, high = found[0].eta, found[1].eta
    n_steps = max(1, math.ceil(math.log(high / low) / math.log1p(resolution)))
    grid = probe_run(list(np.geomspace(low, high, n_steps + 1)[1:-1]), "refine")
    threshold = _step_fit(sorted([found[0], *grid, found[1]], key=lambda p: p.eta))
    return ThresholdSearch(
        threshold=threshold,
        recommendation=threshold / safety_factor,
        bracket=(low, high),
        grid_ratio=(high / low) ** (1 / n_steps),
        probes=probe_run.probes,
        times=probe_run.times,
        model_epochs=probe_run.model_epochs,
        seconds=time.perf_counter() - began,
        settings={
            "sizes": probe_run.sizes,
            "lmbda": float(lmbda),
            "batch_size": int(batch_size),
            "start": start,
            "factor": factor,
            "epochs": epochs,
            "points": len(probe_run.chunks),
            "cost_sample": probe_run.cost_sample,
            "resolution": resolution,
            "safety_factor": safety_factor,
            "min_monotonicity": float(min_monotonicity),
            "parallel": at_once,
            "seed": seed,
            **kwargs,
        },
    )


class _ProbeRun:
    """Trains sets of probes (one fused Trainer per call) and keeps every probe."""

    def __init__(
        self,
        train: Any,
        *,
        lmbda: float,
        batch_size: int,
        epochs: float,
        points: int | None,
        cost_sample: int | None,
        min_monotonicity: float,
        seed: int,
        trainer_kwargs: dict[str, Any],
    ) -> None:
        n = len(train)
        self.cost_sample = None if cost_sample is None or cost_sample >= n else cost_sample
        self.trainer_args = dict(
            lmbda=lmbda,
            batch_size=batch_size,
            seed=seed,
            monitor=("training_cost",),
            monitor_subsample=self.cost_sample,
            **trainer_kwargs,
        )
        self.train = train
        self.min_monotonicity = check.real_in(min_monotonicity, "min_monotonicity", -1.0, 1.0)
        batch_size = check.positive_int(batch_size, "batch_size")
        if batch_size > n:
            raise ValueError(f"batch_size: {batch_size} is larger than the training set ({n})")
        self.chunks = _chunks(n, batch_size, epochs, points, seed)
        self.times = np.concatenate([[0.0], np.cumsum([len(c) for c in self.chunks]) / n])
        self.probes: list[Probe] = []
        self.model_epochs = 0.0
        self.sizes: tuple[int, ...] = ()

    def __call__(self, etas: Sequence[float], phase: str) -> list[Probe]:
        if not etas:
            return []
        trainer = Trainer(self.train, eta=list(etas), **self.trainer_args)
        self.sizes = trainer.sizes
        curves = [trainer.measure()["training_cost"]]
        for chunk in self.chunks:
            curves.append(trainer.run_epoch(order=chunk)["training_cost"])
        trained = np.isfinite(trainer.eta_per_epoch)  # (K, chunks): the stretches each ran
        self.model_epochs += float((trained * np.diff(self.times)).sum())
        new = [
            Probe(float(eta), curve, self.classify(curve), phase)
            for eta, curve in zip(etas, np.column_stack(curves))
        ]
        self.probes.extend(new)
        return new

    def classify(self, curve: np.ndarray) -> str:
        return classify_curve(curve, burn_in=1, min_monotonicity=self.min_monotonicity)


def _chunks(
    n: int, batch_size: int, epochs: float, points: int | None, seed: int
) -> list[np.ndarray]:
    """The window's sample order (the seeded epochs of a sweep, cut to ``epochs``) in
    ``points`` stretches of whole mini-batches."""
    n_batches = max(1, round(epochs * n / batch_size))
    n_epochs = math.ceil(n_batches * batch_size / n)
    order = np.concatenate([_seeding.epoch_order(seed, e, n) for e in range(n_epochs)])
    if n_batches < 2:
        raise ValueError(
            f"epochs: a window of {epochs:g} epoch(s) holds {n_batches} mini-batch; the cost "
            "must be measured at least twice"
        )
    points = min(_POINTS, n_batches) if points is None else points
    if points > n_batches:
        raise ValueError(
            f"points: {points} measurements need at least as many mini-batches; the window of "
            f"{epochs:g} epoch(s) holds {n_batches}"
        )
    bounds = [round(i * n_batches / points) * batch_size for i in range(points + 1)]
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# How many ×factor probes to train at once, measured on MNIST ([784, 30, 10], λ = 5, m = 10,
# one epoch at 20 points, seed 0; a 2-core Zen 4 shared with other jobs, load 2-4; medians of
# 3 runs). Seconds for the whole ×10 phase, which brackets [0.1, 1] every time:
#   probes at once          1     2     3     4     7
#   start = 0.01          2.00  1.78  1.25  1.53  2.64
#   start = 1e-4          3.08  2.56  2.22  2.81  2.54
# One at a time leaves a core idle (a single model trains on one core) and pays a trainer's
# set-up per probe; with 3 the usual case (threshold within two decades above the start) is
# one fused round. A two-sided sweep of 1e-4 ... 1e2 at once took 1.5-1.9 s from 0.01 against
# 1.0-1.5 s one at a time: probes far from the threshold are wasted work.
def _probes_at_once(parallel: object, n_threads: object) -> int:
    if parallel is not None:
        return check.positive_int(parallel, "parallel")
    cores = n_threads if isinstance(n_threads, int) else (os.cpu_count() or 1)
    return max(3, cores)


def _bracket(
    run: Callable[[list[float], str], list[Probe]],
    start: float,
    factor: float,
    max_steps: int,
    at_once: int,
) -> tuple[Probe, Probe]:
    """The ×factor phase: (last decreasing probe, first non-decreasing probe) as η rises.

    Probes ``start·factor^k`` run ``at_once`` at a time in the current direction: first
    k = 0, 1, ... upwards; downwards instead if the cost does not decrease at ``start``."""
    tried: dict[int, Probe] = {}

    def probe_from(k: int, step: int) -> None:
        powers = [k + i * step for i in range(at_once) if abs(k + i * step) <= max_steps]
        for power, p in zip(powers, run([start * factor**j for j in powers], "bracket")):
            tried[power] = p

    probe_from(0, 1)
    step = 1 if tried[0].decreasing else -1
    k = 0
    while True:
        if abs(k + step) > max_steps:
            raise ThresholdNotFoundError(
                f"the training cost {'decreases' if step > 0 else 'does not decrease'} at "
                f"every η from {start:g} to {start * factor**k:g}; try another start",
                sorted(tried.values(), key=lambda p: p.eta),
            )
        if k + step not in tried:
            probe_from(k + step, step)
        if tried[k + step].decreasing != tried[k].decreasing:
            break
        k += step
    low, high = sorted((k, k + step))
    return tried[low], tried[high]


def _step_fit(probes: list[Probe]) -> float:
    """The η (of probes sorted by η) where "decreasing below, not above" fits best."""
    decreasing = np.array([p.decreasing for p in probes])
    # errors[j]: non-decreasing probes at or below j plus decreasing probes above j
    below = np.cumsum(~decreasing)
    above = decreasing.sum() - np.cumsum(decreasing)
    errors = (below + above)[:-1]  # the top of the bracket never counts as decreasing
    return probes[int(np.argmin(errors))].eta


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _curve(values: object, name: str) -> np.ndarray:
    try:
        c = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a sequence of numbers, got {values!r}") from exc
    if c.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {c.shape}")
    return c


def _epochs(epochs: float) -> str:
    return f"{epochs:g} epoch" + ("" if epochs == 1 else "s")


def _percent(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{100 * x:+.0f}%"
