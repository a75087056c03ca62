"""The result of a sweep: per-model curves, hyper-parameters and final weights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MONITORS = ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")


@dataclass
class SweepResult:
    """What a sweep measured: one row per model, one column per epoch.

    Attributes
    ----------
    eta, lmbda, batch_size : ndarray, shape (K,)
        Each model's hyper-parameters. Models enumerate the grid ``batch_size × eta × lmbda``
        with the last varying fastest.
    training_cost, training_accuracy, evaluation_cost, evaluation_accuracy : ndarray or None
        Shape (K, epochs); None where not monitored. Costs include the L2 term (as
        network2's ``total_cost``); accuracies are fractions. NaN from the epoch a model
        diverged.
    diverged_epoch : ndarray of int, shape (K,)
        The epoch (0-based) in which a model's parameters or cost became non-finite; -1 if
        never. A diverged model stops training; other models are unaffected.
    weights, biases : list of ndarray
        Final parameters per layer, shapes (K, out, in) and (K, out).
    sizes : tuple of int
    config : dict
        The remaining settings (cost, init, seed, dtype, ...).
    """

    eta: np.ndarray
    lmbda: np.ndarray
    batch_size: np.ndarray
    sizes: tuple[int, ...]
    epochs: int
    training_cost: np.ndarray | None
    training_accuracy: np.ndarray | None
    evaluation_cost: np.ndarray | None
    evaluation_accuracy: np.ndarray | None
    diverged_epoch: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def n_models(self) -> int:
        return len(self.eta)

    @property
    def diverged(self) -> np.ndarray:
        """Boolean mask of the models that diverged."""
        return self.diverged_epoch >= 0

    def __repr__(self) -> str:
        lines = [
            f"SweepResult({self.n_models} models of {list(self.sizes)}, {self.epochs} epochs, "
            f"{int(self.diverged.sum())} diverged)"
        ]
        for name in MONITORS:
            values = getattr(self, name)
            if values is not None and values.shape[1]:
                last = ", ".join(f"{v:.4g}" for v in values[:6, -1])
                more = ", ..." if self.n_models > 6 else ""
                lines.append(f"  {name} at the last epoch: [{last}{more}]")
        return "\n".join(lines)

    @staticmethod
    def concatenate(parts: Sequence[SweepResult]) -> SweepResult:
        """Join results of the same sizes and epochs model-wise (e.g. one per batch size)."""
        first = parts[0]

        def cat(name: str) -> np.ndarray | None:
            values = [getattr(p, name) for p in parts]
            return None if values[0] is None else np.concatenate(values)

        return SweepResult(
            eta=np.concatenate([p.eta for p in parts]),
            lmbda=np.concatenate([p.lmbda for p in parts]),
            batch_size=np.concatenate([p.batch_size for p in parts]),
            sizes=first.sizes,
            epochs=min(p.epochs for p in parts),
            training_cost=cat("training_cost"),
            training_accuracy=cat("training_accuracy"),
            evaluation_cost=cat("evaluation_cost"),
            evaluation_accuracy=cat("evaluation_accuracy"),
            diverged_epoch=np.concatenate([p.diverged_epoch for p in parts]),
            weights=[np.concatenate(ws) for ws in zip(*(p.weights for p in parts))],
            biases=[np.concatenate(bs) for bs in zip(*(p.biases for p in parts))],
            config=first.config,
        )
