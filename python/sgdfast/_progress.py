"""A tqdm progress bar fed by the trainer once per epoch (model-epochs, ETA, diverged)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._trainer import Trainer


class ProgressBar:
    """Callback for :func:`sgdfast.sweep`: one tick per epoch of every model.

    The bar counts model-epochs (models × epochs over all trainers of a sweep, e.g. one per
    batch size) and shows the ETA, the epoch, and how many models have diverged so far. One
    update per epoch: nothing is measured that the trainer has not measured already.

    Parameters
    ----------
    epochs : int
        Epochs each trainer runs.
    n_models : int
        Models over all trainers.
    force : bool
        Show the bar even when stderr is not a terminal. By default it stays quiet there
        (tqdm's ``disable=None``), so logs and pipes get no control characters.
    **tqdm_kwargs
        Passed to ``tqdm`` (e.g. ``file``, ``desc``, ``mininterval``).
    """

    def __init__(self, epochs: int, n_models: int, *, force: bool = False, **tqdm_kwargs: Any):
        from tqdm.auto import tqdm

        tqdm_kwargs.setdefault("file", sys.stderr)
        tqdm_kwargs.setdefault("dynamic_ncols", True)
        self._bar = tqdm(
            total=epochs * n_models,
            unit="model-epoch",
            disable=False if force else None,
            **tqdm_kwargs,
        )
        # Diverged models and batch sizes per trainer: a sweep over several batch sizes
        # trains one trainer after another, and the bar counts them all.
        self._diverged: dict[int, int] = {}
        self._batch_sizes: dict[int, int] = {}

    @property
    def disabled(self) -> bool:
        """True when the bar shows nothing (not a terminal and not forced)."""
        return bool(self._bar.disable)

    def __call__(self, trainer: Trainer) -> None:
        key = id(trainer)
        self._diverged[key] = int((trainer.diverged_epoch >= 0).sum())
        self._batch_sizes[key] = trainer.batch_size
        postfix: dict[str, Any] = {}
        if len(self._batch_sizes) > 1:
            postfix["m"] = trainer.batch_size
        postfix["epoch"] = trainer.epoch
        postfix["diverged"] = sum(self._diverged.values())
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(trainer.n_models)

    def close(self) -> None:
        self._bar.close()
