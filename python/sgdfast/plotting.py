"""Plots of sweep results (matplotlib, imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._trainer import SweepResult
    from .selection import Selection
    from .threshold import ThresholdSearch

# One colour per curve class of the threshold search (matplotlib's tab10).
CLASS_COLORS = {"decreasing": "tab:blue", "oscillating": "tab:orange", "diverging": "tab:red"}


def plot_cost(
    result: SweepResult, *, monitor: str = "training_cost", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Chapter 3's figure: a monitored quantity per epoch, one line per model.

    Parameters
    ----------
    result : SweepResult
    monitor : str
        Which curve: "training_cost" (default), "evaluation_accuracy", ...
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    values = getattr(result, monitor, None)
    if values is None:
        raise ValueError(f"monitor: {monitor!r} was not measured in this sweep")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5))
    epochs = np.arange(values.shape[1])
    vary_lmbda = len(np.unique(result.lmbda)) > 1
    vary_batch = len(np.unique(result.batch_size)) > 1
    for k in range(result.n_models):
        label = f"η = {result.eta[k]:g}"
        if vary_lmbda:
            label += f", λ = {result.lmbda[k]:g}"
        if vary_batch:
            label += f", m = {result.batch_size[k]}"
        if result.diverged[k]:
            label += f" (diverged at epoch {result.diverged_epoch[k]})"
        ax.plot(epochs, values[k], label=label, **kwargs)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Epoch")
    ax.set_ylabel(monitor.replace("_", " ").capitalize())
    ax.set_title(f"{list(result.sizes)}, {result.config.get('cost', '')}".rstrip(", "))
    if result.n_models <= 12:
        ax.legend()
    return ax


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def plot_threshold(
    search: ThresholdSearch, *, quantity: str = "monotonicity", ax: Axes | None = None
) -> Axes:
    """The threshold search at a glance: every probe's η (log axis) against its early cost
    change, coloured by class, with the bracket shaded and the threshold and recommendation
    marked.

    Parameters
    ----------
    search : ThresholdSearch
    quantity : {"monotonicity", "change"}
        The y value. "monotonicity" (default): the early cost change relative to the cost's
        total movement, ``(falls - rises) / (falls + rises)`` after the first stretch, which
        the classifier thresholds (the line); 1 is a steady fall. "change": the cost's
        relative change over the window, last / initial - 1.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from sgdfast.plotting import plot_threshold
    >>> ax = plot_threshold(search)          # doctest: +SKIP
    >>> ax.figure.savefig("threshold.png")   # doctest: +SKIP
    """
    from ._validation import choice

    choice(quantity, "quantity", ("change", "monotonicity"))
    ax = _new_axes(ax)
    low, high = search.bracket
    ax.axvspan(low, high, color="0.92", zorder=0, label=f"bracket [{low:g}, {high:g}]")
    for kind, color in CLASS_COLORS.items():
        probes = sorted((p for p in search.probes if p.kind == kind), key=lambda p: p.eta)
        if probes:
            y = [p.change if quantity == "change" else p.monotonicity for p in probes]
            ax.scatter([p.eta for p in probes], y, color=color, label=kind, zorder=3, s=22)
    ax.axvline(
        search.threshold, color="k", linestyle="--", label=f"threshold {search.threshold:.3g}"
    )
    ax.axvline(
        search.recommendation,
        color="tab:green",
        linewidth=2,
        label=f"recommendation {search.recommendation:.3g}",
    )
    if quantity == "monotonicity":
        ax.axhline(search.settings["min_monotonicity"], color="0.5", linewidth=0.8)
        ax.set_ylabel("Early cost change / total movement")
    else:
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        epochs = search.settings["epochs"]
        ax.set_ylabel(f"Cost change over the first {epochs:g} epoch{'' if epochs == 1 else 's'}")
    ax.set_xscale("log")
    ax.set_xlabel("Learning rate η")
    ax.set_title(_search_title(search))
    ax.legend(fontsize="small")
    return ax


def plot_probes(
    search: ThresholdSearch, *, phase: str | None = None, ax: Axes | None = None
) -> Axes:
    """Every probe's early training-cost curve against epochs, coloured by class.

    Parameters
    ----------
    search : ThresholdSearch
    phase : {"bracket", "refine"}, optional
        Only the probes of one phase; default all.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ._validation import choice

    if phase is not None:
        choice(phase, "phase", ("bracket", "refine"))
    ax = _new_axes(ax)
    probes = [p for p in search.probes if phase is None or p.phase == phase]
    labelled: set[str] = set()
    for p in sorted(probes, key=lambda p: p.eta):
        label = None if p.kind in labelled else p.kind
        labelled.add(p.kind)
        ax.plot(search.times, p.curve, color=CLASS_COLORS[p.kind], alpha=0.7, label=label)
    if probes:
        start = max(float(p.curve[0]) for p in probes)
        low = min(float(np.nanmin(p.curve)) for p in probes)
        if low > 0:
            ax.set_yscale("log")
            ax.set_ylim(0.9 * low, 1.3 * start)  # divergence off-scale
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Training cost")
    ax.set_title(_search_title(search))
    ax.legend(fontsize="small")
    return ax


def _search_title(search: ThresholdSearch) -> str:
    s = search.settings
    return f"{list(s['sizes'])}, λ = {s['lmbda']:g}, m = {s['batch_size']}"


def plot_selection(
    selection: Selection, parameter: str = "lmbda", *, ax: Axes | None = None
) -> Axes:
    """Validation accuracy against one hyper-parameter (λ, batch size, hidden layers or η),
    one line per combination of the others.

    Parameters
    ----------
    selection : Selection
    parameter : {"lmbda", "batch_size", "hidden", "eta"}
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        x: the parameter's values, evenly spaced (λ = 0 and hidden layouts need no log
        axis); y: each candidate's best validation accuracy.
    """
    from ._validation import choice
    from .selection import PARAMETERS

    choice(parameter, "parameter", PARAMETERS)
    ax = _new_axes(ax)
    values = sorted({c.value(parameter) for c in selection.candidates})
    position = {v: i for i, v in enumerate(values)}
    others = [p for p in PARAMETERS if p != parameter]
    lines: dict[tuple[Any, ...], list[tuple[int, float]]] = {}
    for c in selection.candidates:
        key = tuple(c.value(p) for p in others)
        lines.setdefault(key, []).append((position[c.value(parameter)], c.accuracy))
    varying = [i for i, p in enumerate(others) if len({k[i] for k in lines}) > 1]
    for key, points in lines.items():
        points.sort()
        label = ", ".join(_parameter_label(others[i], key[i]) for i in varying) or None
        ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels([_parameter_text(parameter, v) for v in values])
    ax.set_xlabel(_PARAMETER_NAMES[parameter])
    ax.set_ylabel("Best validation accuracy")
    if len(lines) > 1 and len(lines) <= 12:
        ax.legend(fontsize="small")
    return ax


_PARAMETER_NAMES = {
    "lmbda": "λ",
    "batch_size": "Mini-batch size m",
    "hidden": "Hidden layers",
    "eta": "Learning rate η",
}


def _parameter_text(parameter: str, value: Any) -> str:
    return str(list(value)) if parameter == "hidden" else f"{value:.3g}"


def _parameter_label(parameter: str, value: Any) -> str:
    short = {"lmbda": "λ", "batch_size": "m", "hidden": "hidden", "eta": "η"}[parameter]
    return f"{short} = {_parameter_text(parameter, value)}"
