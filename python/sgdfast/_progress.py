"""A tqdm progress bar fed by the trainer once per epoch (model-epochs, ETA, diverged)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._trainer import Trainer


class ProgressBar:
    """Callback for :func:`sgdfast.sweep`: one tick per epoch of every model.

    Writes to stderr and stays quiet when stderr is not a terminal (tqdm's ``disable=None``),
    unless ``force=True``.
    """

    def __init__(self, epochs: int, n_models: int, *, force: bool = False, **tqdm_kwargs: Any):
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=epochs * n_models,
            unit="model-epoch",
            file=sys.stderr,
            disable=False if force else None,
            dynamic_ncols=True,
            **tqdm_kwargs,
        )
        self._n_models = n_models

    def __call__(self, trainer: Trainer) -> None:
        self._bar.update(self._n_models)
        diverged = int((trainer.diverged_epoch >= 0).sum())
        self._bar.set_postfix(epoch=trainer.epoch, diverged=diverged)

    def close(self) -> None:
        self._bar.close()
