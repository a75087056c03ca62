"""Plots of sweep results (matplotlib, imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._trainer import SweepResult


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
