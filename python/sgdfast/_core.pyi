"""The compiled engine (Rust). Use :class:`sgdfast.Trainer` / :func:`sgdfast.sweep` instead."""

from collections.abc import Sequence
from typing import final

import numpy as np
import numpy.typing as npt

__all__ = ["Engine", "cost_gradient", "hessian_vector_product", "isa"]

@final
class Engine:
    """K models of one architecture trained together on one training set.

    ``weights[l]`` has shape (K, out, in) and ``biases[l]`` (K, out), all of X's dtype
    (float32 or float64); the engine copies them and the data.
    """

    def __new__(
        cls,
        sizes: Sequence[int],
        cost: str,
        batch_size: int,
        weights: Sequence[npt.NDArray[np.floating]],
        biases: Sequence[npt.NDArray[np.floating]],
        eta: Sequence[float],
        lmbda: Sequence[float],
        x: npt.NDArray[np.floating],
        y: npt.NDArray[np.int64],
        n_threads: int | None = None,
        group_size: int | None = None,
    ) -> Engine: ...
    def add_dataset(self, x: npt.NDArray[np.floating], y: npt.NDArray[np.int64]) -> int:
        """Store an evaluation data set; returns its index (the training set is 0)."""
    def train_epoch(self, order: npt.NDArray[np.int64]) -> None:
        """One step per mini-batch of ``order`` (sample indices), GIL released."""
    def evaluate(self, dataset: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64]]:
        """Per model: summed cost (without the L2 term) and number correct."""
    def weight_sq_norms(self) -> npt.NDArray[np.float64]:
        """Per model: sum of squared weights (biases excluded)."""
    def finite(self) -> npt.NDArray[np.bool_]:
        """Per model: whether every parameter is finite."""
    def params(self) -> tuple[list[npt.NDArray[np.floating]], list[npt.NDArray[np.floating]]]:
        """(weights, biases), one array per layer: (K, out, in) and (K, out)."""
    def set_eta(self, eta: Sequence[float]) -> None: ...
    def set_lmbda(self, lmbda: Sequence[float]) -> None: ...
    def set_active(self, active: Sequence[bool]) -> None: ...
    @property
    def eta(self) -> list[float]: ...
    @property
    def lmbda(self) -> list[float]: ...
    @property
    def active(self) -> list[bool]: ...
    @property
    def n_models(self) -> int: ...
    @property
    def n_groups(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def isa(self) -> str: ...

def isa() -> str:
    """The instruction set the kernels use here: "avx512", "avx2" or "baseline"."""

def cost_gradient(
    sizes: Sequence[int],
    cost: str,
    weights: Sequence[npt.NDArray[np.float64]],
    biases: Sequence[npt.NDArray[np.float64]],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    lmbda: float,
    *,
    n_train: int | None = None,
    n_threads: int | None = None,
) -> tuple[float, npt.NDArray[np.float64]]:
    """One model's total training cost C(θ) (L2 term λ/(2·n_train)·Σw² included) and its
    gradient, flattened as θ = [W₁ (out×in, row-major), b₁, W₂, b₂, …]. ``weights[l]`` has
    shape (out, in), ``biases[l]`` (out,), ``x`` (n, in); all float64, C-contiguous."""

def hessian_vector_product(
    sizes: Sequence[int],
    cost: str,
    weights: Sequence[npt.NDArray[np.float64]],
    biases: Sequence[npt.NDArray[np.float64]],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    lmbda: float,
    v: npt.NDArray[np.float64],
    *,
    n_train: int | None = None,
    n_threads: int | None = None,
) -> npt.NDArray[np.float64]:
    """Exact H·v (R-operator) for the Hessian of :func:`cost_gradient`'s cost; ``v`` is
    one vector (P,) or k vectors (k, P) in θ's layout, and the result has its shape.
    Bit-identical whatever ``n_threads``."""
