"""The pure-numpy reference: sgdfast's semantics as plain, readable numpy.

This is the executable specification of what the Rust engine computes: the matrix form of
network2.py from Nielsen's book, one model at a time. :class:`NumpyEngine` has the same
interface as the compiled ``sgdfast._core.Engine``, so :class:`sgdfast.Trainer` can drive
either; :func:`sweep` is :func:`sgdfast.sweep` running on it. Same seed, same numbers (to
rounding: float64 results agree with the Rust engine to within 1e-9, as the tests check).

Two deliberate departures from network2.py, shared by both engines: the cross-entropy cost
is evaluated from the output pre-activation z as ``max(z, 0) - y*z + log1p(exp(-|z|))``
(equal to ``-y ln a - (1-y) ln(1-a)`` wherever that is finite, and finite where network2's
``nan_to_num`` would give ~1.8e308), and a last partial mini-batch is a step of its own
scaled by its own size (network2 does the same implicitly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def n_parameters(sizes: Sequence[int]) -> int:
    """Weights and biases of one network with layer sizes ``sizes`` (input first)."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-z))


def unit_costs(cost: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cost of each output unit (same shape as ``z``), in float64."""
    z, a = z.astype(np.float64), a.astype(np.float64)
    if cost == "cross_entropy":
        return np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))
    return 0.5 * (a - y) ** 2


def output_delta(cost: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C/∂z at the output layer."""
    if cost == "cross_entropy":
        return a - y
    return (a - y) * a * (1 - a)


class Network:
    """One model: ``weights[l]`` (out × in) and ``biases[l]`` (out,), network2's layout."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], cost: str):
        self.weights = [w.copy() for w in weights]
        self.biases = [b.copy() for b in biases]
        self.cost = cost

    def feedforward(self, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Activations of every layer for samples ``X`` (n × in), input first, each
        (units × n); and the output layer's pre-activations."""
        activations = [X.T]
        z = X.T
        for w, b in zip(self.weights, self.biases):
            z = w @ activations[-1] + b[:, None]
            activations.append(sigmoid(z))
        return activations, z

    def sgd_step(self, X: np.ndarray, y: np.ndarray, eta: float, lmbda: float, n: int) -> None:
        """One mini-batch step (network2's ``update_mini_batch`` in matrix form)."""
        activations, _ = self.feedforward(X)
        targets = np.zeros_like(activations[-1])
        targets[y, np.arange(len(y))] = 1
        delta = output_delta(self.cost, activations[-1], targets)
        nabla_w, nabla_b = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            nabla_w.insert(0, delta @ activations[layer].T)
            nabla_b.insert(0, delta.sum(axis=1))
            if layer > 0:
                a = activations[layer]
                delta = (self.weights[layer].T @ delta) * a * (1 - a)
        m = len(y)
        decay = 1 - eta * (lmbda / n)
        self.weights = [decay * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]

    def cost_and_correct(self, X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """Sum over samples of the cost (without the L2 term), and how many are right."""
        activations, z = self.feedforward(X)
        targets = np.zeros_like(z, dtype=np.float64)
        targets[y, np.arange(len(y))] = 1
        total = float(unit_costs(self.cost, z, activations[-1], targets).sum())
        correct = int(np.count_nonzero(np.argmax(activations[-1], axis=0) == y))
        return total, correct


class NumpyEngine:
    """K models trained one after another in numpy; the interface of ``_core.Engine``."""

    def __init__(
        self,
        sizes: Sequence[int],
        cost: str,
        batch_size: int,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        eta: Sequence[float],
        lmbda: Sequence[float],
        x: np.ndarray,
        y: np.ndarray,
        n_threads: int | None = None,
        group_size: int | None = None,
    ):
        del n_threads, group_size  # one model at a time, on one thread (plus numpy's BLAS)
        self.sizes = list(sizes)
        self.batch_size = batch_size
        self.dtype = x.dtype.name
        self.models = [
            Network([w[k] for w in weights], [b[k] for b in biases], cost) for k in range(len(eta))
        ]
        self.eta = list(eta)
        self.lmbda = list(lmbda)
        self.active = [True] * len(eta)
        self.datasets: list[tuple[np.ndarray, np.ndarray]] = [(x, y)]

    @property
    def n_models(self) -> int:
        return len(self.models)

    def add_dataset(self, x: np.ndarray, y: np.ndarray) -> int:
        self.datasets.append((x, y))
        return len(self.datasets) - 1

    def train_epoch(self, order: np.ndarray) -> None:
        x, y = self.datasets[0]
        n, m = len(y), self.batch_size
        for k, model in enumerate(self.models):
            if not self.active[k]:
                continue
            with np.errstate(all="ignore"):  # a diverging model is reported, not warned about
                for start in range(0, len(order), m):
                    batch = order[start : start + m]
                    model.sgd_step(x[batch], y[batch], self.eta[k], self.lmbda[k], n)

    def evaluate(self, dataset: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.datasets[dataset]
        with np.errstate(all="ignore"):
            results = [model.cost_and_correct(x, y) for model in self.models]
        return (
            np.array([r[0] for r in results], dtype=np.float64),
            np.array([r[1] for r in results], dtype=np.uint64),
        )

    def weight_sq_norms(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.array(
                [
                    sum(float(np.sum(w.astype(np.float64) ** 2)) for w in model.weights)
                    for model in self.models
                ]
            )

    def finite(self) -> np.ndarray:
        return np.array(
            [
                all(np.isfinite(p).all() for p in model.weights + model.biases)
                for model in self.models
            ]
        )

    def params(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        n_layers = len(self.sizes) - 1
        weights = [
            np.stack([mod.weights[layer] for mod in self.models]) for layer in range(n_layers)
        ]
        biases = [np.stack([mod.biases[layer] for mod in self.models]) for layer in range(n_layers)]
        return weights, biases

    def set_eta(self, eta: Sequence[float]) -> None:
        self.eta = list(eta)

    def set_lmbda(self, lmbda: Sequence[float]) -> None:
        self.lmbda = list(lmbda)

    def set_active(self, active: Sequence[bool]) -> None:
        self.active = list(active)


def sweep(*args: Any, **kwargs: Any) -> Any:
    """:func:`sgdfast.sweep` on the numpy reference engine (same arguments, same result)."""
    from ._trainer import sweep as _sweep

    return _sweep(*args, backend="numpy", **kwargs)
