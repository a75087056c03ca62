"""Why large η oscillates: sharpness, the 2/λ_max bound, and the Euler / stiff-ODE view.

Gradient descent ``θ ← θ − η ∇C(θ)`` is the explicit Euler method with step η on the
gradient flow ``dθ/dt = −∇C(θ)``. Near a minimum ``∇C(θ) ≈ H (θ − θ*)`` with H the Hessian,
and each eigen-direction of H with eigenvalue λ is multiplied by ``1 − ηλ`` per step: the
iteration is stable only while ``η · λ_max(H) < 2``. The top Hessian eigenvalue, the
*sharpness*, therefore predicts the largest usable learning rate, ``2 / λ_max``.

This module measures it for sgdfast's networks and shows the analogy in code:

* :class:`HessianOperator` — exact Hessian-vector products ``H·v`` and gradients of one
  model's total training cost (network2's ``total_cost``, L2 term included), computed in
  float64 in the Rust core by the R-operator (forward-over-reverse differentiation).
* :func:`sharpness`, :func:`sharpness_of` — the top-k Hessian eigenvalues by Lanczos (or
  power/subspace iteration), with the residual reached, and the threshold ``2/λ_max``.
* :class:`SharpnessMonitor`, :func:`sharpness_along_training` — sharpness per epoch while
  :class:`sgdfast.Trainer` trains a few models (edge of stability: under gradient descent
  the sharpness tends to rise until it reaches ``2/η`` and then hovers there).
* :func:`compare_thresholds`, :func:`plot_thresholds`, :func:`plot_sharpness` — the
  predicted threshold (at initialisation and along training) and an empirical one (a
  number, or the result of a threshold search) on one η axis.
* :func:`euler`, :func:`trapezoidal`, :func:`gradient_descent_quadratic`,
  :func:`stability_limit`, :func:`plot_stability_analogy` — the stiff ODE ``y' = −15y``
  and gradient descent on a quadratic, with their stability limits.

Parameters are flattened layer by layer, each layer's weights (out × in, row-major) then
its biases: ``θ = [W₁, b₁, W₂, b₂, …]`` (:func:`flatten_params`, :func:`unflatten_params`).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from . import _validation as check
from ._result import SweepResult
from .data import Dataset, as_dataset
from .reference import n_parameters

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._trainer import Trainer

__all__ = [
    "HessianOperator",
    "SharpnessHistory",
    "SharpnessMonitor",
    "SharpnessResult",
    "ThresholdComparison",
    "compare_thresholds",
    "euler",
    "flatten_params",
    "gradient_descent_quadratic",
    "plot_sharpness",
    "plot_stability_analogy",
    "plot_thresholds",
    "sharpness",
    "sharpness_along_training",
    "sharpness_of",
    "stability_limit",
    "top_eigenpairs",
    "trapezoidal",
    "unflatten_params",
]

COSTS = ("cross_entropy", "quadratic")
METHODS = ("lanczos", "power")


# --------------------------------------------------------------------------------------------
# Parameters of one model
# --------------------------------------------------------------------------------------------


def _as_model(weights: Any, biases: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-layer float64 C-contiguous copies of one model's parameters, shapes checked."""
    for name, value in (("weights", weights), ("biases", biases)):
        if isinstance(value, (str, bytes, np.ndarray)) or not isinstance(value, Sequence):
            raise TypeError(
                f"{name}: expected a list of per-layer arrays, got {type(value).__name__}"
            )
        if len(value) == 0:
            raise ValueError(f"{name}: need at least one layer")
    if len(weights) != len(biases):
        raise ValueError(
            f"biases: {len(biases)} arrays for {len(weights)} weight arrays (one per layer)"
        )
    ws: list[np.ndarray] = []
    bs: list[np.ndarray] = []
    for layer, (w, b) in enumerate(zip(weights, biases)):
        w, b = np.asarray(w), np.asarray(b)
        for name, a, ndim in (("weights", w, 2), ("biases", b, 1)):
            if a.dtype.kind not in "iuf":
                raise TypeError(f"{name}: layer {layer} has dtype {a.dtype}; expected floats")
            if a.ndim != ndim:
                raise ValueError(
                    f"{name}: layer {layer} should be {ndim}-D for one model, got shape "
                    f"{a.shape} (use sharpness_of() for the (K, ...) arrays of a sweep)"
                )
        if layer and w.shape[1] != ws[-1].shape[0]:
            raise ValueError(
                f"weights: layer {layer} takes {w.shape[1]} inputs but layer {layer - 1} has "
                f"{ws[-1].shape[0]} units"
            )
        if b.shape[0] != w.shape[0]:
            raise ValueError(
                f"biases: layer {layer} has {b.shape[0]} values for {w.shape[0]} units"
            )
        w = np.ascontiguousarray(w, dtype=np.float64)
        b = np.ascontiguousarray(b, dtype=np.float64)
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ValueError(f"weights: layer {layer} has NaN or inf parameters")
        ws.append(w)
        bs.append(b)
    return ws, bs


def flatten_params(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> np.ndarray:
    """One model's parameters as a flat float64 vector ``θ = [W₁, b₁, W₂, b₂, …]``.

    Parameters
    ----------
    weights, biases : list of ndarray
        Per layer, shapes (out, in) and (out,).

    Returns
    -------
    ndarray, shape (P,)
        Each layer's weights (row-major), then its biases, layer after layer.
    """
    ws, bs = _as_model(weights, biases)
    return np.concatenate([p.ravel() for w, b in zip(ws, bs) for p in (w, b)])


def unflatten_params(
    theta: np.ndarray, sizes: Sequence[int]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The inverse of :func:`flatten_params` for layer sizes ``sizes`` (input first).

    Returns
    -------
    weights, biases : lists of ndarray (views into ``theta``), shapes (out, in) and (out,).
    """
    theta = np.asarray(theta)
    n_params = n_parameters(sizes)
    if theta.shape != (n_params,):
        raise ValueError(f"theta: expected shape ({n_params},) for sizes {list(sizes)}")
    weights, biases, at = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(theta[at : at + n_out * n_in].reshape(n_out, n_in))
        at += n_out * n_in
        biases.append(theta[at : at + n_out])
        at += n_out
    return weights, biases


# --------------------------------------------------------------------------------------------
# The Hessian as an operator
# --------------------------------------------------------------------------------------------


class HessianOperator:
    """The Hessian H = ∇²C(θ) of one model's total training cost, as a linear operator.

    ``C(θ) = (1/n) Σ_x C_x(θ) + (λ / 2 n_train) Σ_l ‖W_l‖²`` over the n samples used (all of
    ``data``, or a subsample of it), as network2's ``total_cost`` (biases not regularised).
    ``matvec`` computes exact products H·v in float64 in the Rust core (R-operator: one
    product costs about three passes over the samples), with the GIL released.

    Parameters
    ----------
    data : Dataset or (X, y)
        The training set (or the part of it that defines the cost).
    weights, biases : list of ndarray
        One model's parameters per layer, shapes (out, in) and (out,); any float dtype
        (used as float64).
    cost : {"cross_entropy", "quadratic"}
    lmbda : float
        The L2 parameter λ (>= 0) of the training run.
    subsample : int, optional
        Use this many samples of ``data``, drawn without replacement with ``seed`` (all of
        them if ``subsample >= len(data)``). The L2 term keeps its weight λ / (2 n_train).
    seed : int
        Seeds the subsample.
    n_train : int, optional
        The training set's size n in the L2 term; default ``len(data)``.
    n_threads : int, optional
        Threads; default rayon's pool (all cores, or ``RAYON_NUM_THREADS``). Results are
        bit-identical whatever the thread count.

    Attributes
    ----------
    sizes : tuple of int
    n_params : int
        P, the length of θ.
    n_samples : int
        Samples the cost is measured on.
    n_products : int
        Hessian-vector products computed so far.
    """

    def __init__(
        self,
        data: Dataset | tuple[Any, Any],
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        *,
        cost: str = "cross_entropy",
        lmbda: float = 0.0,
        subsample: int | None = None,
        seed: int = 0,
        n_train: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        dataset = as_dataset(data, name="data")
        self.weights, self.biases = _as_model(weights, biases)
        self.sizes = (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))
        if dataset.n_features != self.sizes[0]:
            raise ValueError(
                f"data: has {dataset.n_features} features but the first layer takes "
                f"{self.sizes[0]} inputs"
            )
        if dataset.n_classes > self.sizes[-1]:
            raise ValueError(
                f"data: labels go up to {dataset.n_classes - 1} but the output layer has "
                f"{self.sizes[-1]} units"
            )
        self.cost = check.choice(cost, "cost", COSTS)
        if np.ndim(lmbda) != 0:
            raise TypeError(f"lmbda: expected one number, got {lmbda!r}")
        self.lmbda = check.real_grid(lmbda, "lmbda", strictly_positive=False)[0]
        self.seed = check.positive_int(seed, "seed", minimum=0)
        self.n_train = len(dataset) if n_train is None else check.positive_int(n_train, "n_train")
        self.n_threads = check.optional_positive_int(n_threads, "n_threads")
        index = _subsample(len(dataset), subsample, self.seed)
        X, y = dataset.X, dataset.y
        if index is not None:
            X, y = X[index], y[index]
        self._X = np.ascontiguousarray(X, dtype=np.float64)
        self._y = np.ascontiguousarray(y, dtype=np.int64)
        self.n_samples = len(self._y)
        self.n_params = sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        self.n_products = 0

    def _kwargs(self) -> dict[str, Any]:
        return dict(
            sizes=list(self.sizes),
            cost=self.cost,
            weights=self.weights,
            biases=self.biases,
            x=self._X,
            y=self._y,
            lmbda=self.lmbda,
            n_train=self.n_train,
            n_threads=self.n_threads,
        )

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """H·v for one vector (P,) or each row of a (k, P) array; returns v's shape.

        Several vectors in one call share the forward and backward pass (cheaper than one
        call each)."""
        v = np.ascontiguousarray(v, dtype=np.float64)
        out = _core.hessian_vector_product(v=v, **self._kwargs())
        self.n_products += 1 if v.ndim == 1 else v.shape[0]
        return out

    def value_and_gradient(self) -> tuple[float, np.ndarray]:
        """C(θ) (the L2 term included) and ∇C(θ), flattened as θ."""
        return _core.cost_gradient(**self._kwargs())

    def dense(self) -> np.ndarray:
        """The whole P × P Hessian, from the products with the unit vectors (for small
        networks: it costs P products and 8·P² bytes)."""
        if self.n_params > 5000:
            raise ValueError(
                f"dense: {self.n_params} parameters would need {8 * self.n_params**2 / 2**30:.1f} "
                "GiB; use sharpness() (Lanczos) instead"
            )
        return self.matvec(np.eye(self.n_params))

    def __repr__(self) -> str:
        return (
            f"HessianOperator(sizes={list(self.sizes)}, cost={self.cost!r}, lmbda={self.lmbda:g}, "
            f"n_samples={self.n_samples}, n_params={self.n_params})"
        )


def _subsample(n: int, subsample: int | None, seed: int) -> np.ndarray | None:
    """Sorted indices of ``subsample`` of ``n`` samples (None: all of them)."""
    if subsample is None:
        return None
    size = check.positive_int(subsample, "subsample")
    if size >= n:
        return None
    rng = np.random.default_rng([seed, 0])
    return np.sort(rng.choice(n, size=size, replace=False))


# --------------------------------------------------------------------------------------------
# Top eigenvalues: Lanczos and power (subspace) iteration
# --------------------------------------------------------------------------------------------


@dataclass
class SharpnessResult:
    """The top Hessian eigenvalues of one model's training cost.

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        Largest first. ``eigenvalues[0]`` is the sharpness λ_max.
    residuals : ndarray, shape (k,)
        ``‖H u_i − λ_i u_i‖`` of each returned unit eigenvector u_i, recomputed with fresh
        products at the end. For a symmetric H some eigenvalue lies within ``residuals[i]``
        of ``eigenvalues[i]``.
    tol : float
        The requested relative tolerance: converged when every residual is at most
        ``tol · max_i |λ_i|``.
    converged : bool
    iterations : int
        Lanczos steps (or power iterations).
    n_products : int
        Hessian-vector products used, the final residual check included.
    n_samples : int
        Samples the Hessian was measured on (the subsample size, or the whole data set).
    method : str
    eigenvectors : ndarray, shape (k, P)
        Unit eigenvectors in θ's layout (see :func:`unflatten_params`).
    """

    eigenvalues: np.ndarray
    residuals: np.ndarray
    tol: float
    converged: bool
    iterations: int
    n_products: int
    n_samples: int
    method: str
    eigenvectors: np.ndarray = field(repr=False)

    @property
    def lambda_max(self) -> float:
        """The sharpness: the largest eigenvalue."""
        return float(self.eigenvalues[0])

    @property
    def threshold(self) -> float:
        """``2 / λ_max``: gradient descent with a larger η is unstable near here
        (``inf`` if λ_max <= 0)."""
        return _threshold(self.lambda_max)

    @property
    def relative_residual(self) -> float:
        """The largest residual relative to ``max |λ_i|``: what was reached (vs ``tol``)."""
        scale = float(np.max(np.abs(self.eigenvalues)))
        return float(np.max(self.residuals)) / scale if scale > 0 else 0.0

    def __str__(self) -> str:
        values = ", ".join(f"{v:.6g}" for v in self.eigenvalues)
        state = "converged" if self.converged else "NOT converged"
        return (
            f"sharpness λ_max = {self.lambda_max:.6g}  →  2/λ_max = {self.threshold:.4g}\n"
            f"  top {len(self.eigenvalues)} eigenvalues: [{values}]\n"
            f"  {self.method}: {state}, relative residual {self.relative_residual:.1e} "
            f"(tol {self.tol:.0e}), {self.iterations} iterations, {self.n_products} "
            f"Hessian-vector products on {self.n_samples} samples"
        )


def _threshold(lambda_max: float) -> float:
    return 2.0 / lambda_max if lambda_max > 0 else math.inf


def _lanczos(
    matvec: Callable[[np.ndarray], np.ndarray],
    n: int,
    k: int,
    tol: float,
    max_iter: int,
    v0: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Top-k (algebraically largest) Ritz pairs by Lanczos with full reorthogonalisation.

    Stops when each of the k Ritz pairs' residual ``β_j |s_ji|`` is at most
    ``tol · max |θ_i|`` (over those k), after ``max_iter`` steps, or when the Krylov space
    is exhausted. Returns (values, vectors (k, n), steps)."""
    steps = min(max_iter, n)
    Q = np.zeros((steps, n))
    alpha = np.zeros(steps)
    beta = np.zeros(steps)
    q = v0 / np.linalg.norm(v0)
    for j in range(steps):
        Q[j] = q
        w = matvec(q)
        alpha[j] = q @ w
        # Classical Gram-Schmidt against every Lanczos vector, twice ("twice is enough").
        for _ in range(2):
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        T = np.diag(alpha[: j + 1]) + np.diag(beta[:j], 1) + np.diag(beta[:j], -1)
        theta, S = np.linalg.eigh(T)
        top = np.argsort(theta)[::-1][:k]
        scale = max(float(np.max(np.abs(theta[top]))), np.finfo(float).tiny)
        done = j + 1 >= k and bool(np.all(beta[j] * np.abs(S[j, top]) <= tol * scale))
        if done or j + 1 == steps:
            break
        if beta[j] <= 1e-12 * scale:
            # An invariant subspace: continue from a fresh direction orthogonal to it.
            beta[j] = 0.0
            w = rng.standard_normal(n)
            for _ in range(2):
                w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
            q = w / np.linalg.norm(w)
        else:
            q = w / beta[j]
    m = j + 1
    return theta[top], S[:, top].T @ Q[:m], m


def _power(
    matvec: Callable[[np.ndarray], np.ndarray],
    n: int,
    k: int,
    tol: float,
    max_iter: int,
    v0: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Top-k eigenpairs in magnitude by subspace (block power) iteration with Rayleigh-Ritz.

    Each iteration multiplies the k vectors at once. Returns (values, vectors (k, n),
    iterations)."""
    start = rng.standard_normal((n, k))
    start[:, 0] = v0
    V, _ = np.linalg.qr(start)
    iterations = 0
    while True:
        iterations += 1
        W = matvec(V.T).T
        theta, S = np.linalg.eigh(V.T @ W)
        order = np.argsort(np.abs(theta))[::-1]
        theta, S = theta[order], S[:, order]
        U, HU = V @ S, W @ S
        residuals = np.linalg.norm(HU - U * theta, axis=0)
        if iterations == max_iter or np.all(
            residuals <= tol * max(abs(theta[0]), np.finfo(float).tiny)
        ):
            return theta, U.T, iterations
        V, _ = np.linalg.qr(HU)


def top_eigenpairs(
    operator: HessianOperator,
    *,
    k: int = 1,
    method: str = "lanczos",
    tol: float = 1e-6,
    max_iter: int = 100,
    seed: int = 0,
    v0: np.ndarray | None = None,
) -> SharpnessResult:
    """The k largest eigenvalues of ``operator`` and their eigenvectors (see
    :func:`sharpness` for the arguments)."""
    k = check.positive_int(k, "k")
    method = check.choice(method, "method", METHODS)
    tol = check.real_grid(tol, "tol", strictly_positive=True)[0]
    max_iter = check.positive_int(max_iter, "max_iter")
    n = operator.n_params
    if k > n:
        raise ValueError(f"k: the Hessian has only {n} eigenvalues, asked for {k}")
    rng = np.random.default_rng([check.positive_int(seed, "seed", minimum=0), 1])
    if v0 is None:
        v0 = rng.standard_normal(n)
    else:
        v0 = np.asarray(v0, dtype=np.float64)
        if v0.shape != (n,) or not np.isfinite(v0).all() or not np.any(v0):
            raise ValueError(f"v0: expected a non-zero finite vector of shape ({n},)")
    solve = _lanczos if method == "lanczos" else _power
    before = operator.n_products
    values, vectors, iterations = solve(operator.matvec, n, k, tol, max_iter, v0, rng)
    # Sort largest first, normalise, and measure the residuals with fresh products.
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[order]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    residuals = np.linalg.norm(operator.matvec(vectors) - values[:, None] * vectors, axis=1)
    scale = float(np.max(np.abs(values)))
    converged = bool(np.all(residuals <= tol * scale)) if scale > 0 else True
    return SharpnessResult(
        eigenvalues=values,
        residuals=residuals,
        tol=tol,
        converged=converged,
        iterations=iterations,
        n_products=operator.n_products - before,
        n_samples=operator.n_samples,
        method=method,
        eigenvectors=vectors,
    )


def sharpness(
    data: Dataset | tuple[Any, Any],
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    *,
    cost: str = "cross_entropy",
    lmbda: float = 0.0,
    k: int = 1,
    method: str = "lanczos",
    tol: float = 1e-6,
    max_iter: int = 100,
    subsample: int | None = None,
    seed: int = 0,
    n_train: int | None = None,
    v0: np.ndarray | None = None,
    n_threads: int | None = None,
) -> SharpnessResult:
    """The top-k Hessian eigenvalues of one model's total training cost, and ``2/λ_max``.

    The Hessian is that of ``C(θ) = (1/n) Σ_x C_x + (λ / 2 n_train) Σ ‖W‖²`` (network2's
    ``total_cost``) at the given parameters, applied exactly in float64 (R-operator, see
    :class:`HessianOperator`); its eigenvalues are found without ever forming it.

    Parameters
    ----------
    data : Dataset or (X, y)
        The training set.
    weights, biases : list of ndarray
        One model's parameters per layer, shapes (out, in) and (out,). For a model of a
        sweep use :func:`sharpness_of`.
    cost : {"cross_entropy", "quadratic"}
    lmbda : float
        The L2 parameter of the training run (the L2 term adds ``λ/n_train`` to every
        weight direction's curvature).
    k : int
        How many of the largest eigenvalues.
    method : {"lanczos", "power"}
        ``"lanczos"`` (default): Lanczos with full reorthogonalisation, the k algebraically
        largest eigenvalues, typically in 10–40 products. ``"power"``: subspace (block
        power) iteration, the k largest in magnitude, k products per iteration; slower, a
        cross-check.
    tol : float
        Relative tolerance: stop when every returned pair has
        ``‖H u − λ u‖ <= tol · max |λ_i|``. The eigenvalues are then typically accurate to
        far better than ``tol`` (the error is of order residual² / gap).
    max_iter : int
        At most this many Lanczos steps (or power iterations). A warning says when ``tol``
        was not reached; the result then reports what was.
    subsample : int, optional
        Measure on this many samples of ``data`` (drawn without replacement with ``seed``);
        default all. The Hessian of the average cost over a few thousand samples is close
        to the full one (the sample average of per-sample Hessians).
    seed : int
        Seeds the subsample and the random start vector.
    n_train : int, optional
        n in the L2 term; default ``len(data)`` (the whole set, before subsampling).
    v0 : ndarray, optional
        Start vector (e.g. the previous eigenvector, to warm-start along training).
    n_threads : int, optional
        Threads for the products; results never depend on it.

    Returns
    -------
    SharpnessResult
        ``eigenvalues`` (largest first), ``residuals``, ``converged``, ``iterations``,
        ``n_products``, ``n_samples``, ``threshold`` (= 2/λ_max) and ``eigenvectors``.

    Examples
    --------
    >>> import numpy as np, sgdfast
    >>> from sgdfast.stability import sharpness
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((200, 8)); y = (X[:, 0] > 0.5).astype(int)
    >>> w = [rng.standard_normal((4, 8)) / 8**0.5, rng.standard_normal((2, 4)) / 2]
    >>> b = [rng.standard_normal(4), rng.standard_normal(2)]
    >>> s = sharpness((X, y), w, b)
    >>> bool(s.converged), s.threshold == 2 / s.lambda_max
    (True, True)
    """
    operator = HessianOperator(
        data,
        weights,
        biases,
        cost=cost,
        lmbda=lmbda,
        subsample=subsample,
        seed=seed,
        n_train=n_train,
        n_threads=n_threads,
    )
    result = top_eigenpairs(
        operator, k=k, method=method, tol=tol, max_iter=max_iter, seed=seed, v0=v0
    )
    if not result.converged:
        warnings.warn(
            f"sharpness: {method} reached a relative residual of "
            f"{result.relative_residual:.1e} after {result.iterations} iterations, not "
            f"tol={tol:g}; raise max_iter or tol",
            RuntimeWarning,
            stacklevel=2,
        )
    return result


def sharpness_of(
    result: SweepResult,
    model: int,
    data: Dataset | tuple[Any, Any],
    *,
    lmbda: float | None = None,
    **kwargs: Any,
) -> SharpnessResult:
    """:func:`sharpness` of model ``model`` of a sweep at its final weights.

    Parameters
    ----------
    result : SweepResult
        From :func:`sgdfast.sweep` or ``Trainer.result()``; its cost is used.
    model : int
        Row of the sweep (0 <= model < K).
    data : Dataset or (X, y)
        The training set the sweep trained on.
    lmbda : float, optional
        Default: the model's own λ (``result.lmbda[model]``).
    **kwargs
        Any other argument of :func:`sharpness` (k, method, tol, max_iter, subsample, ...).

    Returns
    -------
    SharpnessResult
    """
    if not isinstance(result, SweepResult):
        raise TypeError(f"result: expected a SweepResult, got {type(result).__name__}")
    model = check.positive_int(model, "model", minimum=0)
    if model >= result.n_models:
        raise ValueError(f"model: the sweep has {result.n_models} models, got index {model}")
    if result.diverged[model]:
        raise ValueError(
            f"model: model {model} (η = {result.eta[model]:g}) diverged at epoch "
            f"{result.diverged_epoch[model]}; its weights are not finite"
        )
    return sharpness(
        data,
        [w[model] for w in result.weights],
        [b[model] for b in result.biases],
        cost=result.config.get("cost", "cross_entropy"),
        lmbda=float(result.lmbda[model]) if lmbda is None else lmbda,
        **kwargs,
    )


# --------------------------------------------------------------------------------------------
# Sharpness along training
# --------------------------------------------------------------------------------------------


@dataclass
class SharpnessHistory:
    """Sharpness of a few models measured every few epochs of training.

    Attributes
    ----------
    eta, lmbda : ndarray, shape (K,)
        Each model's hyper-parameters.
    epochs : ndarray of int, shape (E,)
        Epochs after which the sharpness was measured (0 = at initialisation).
    sharpness : ndarray, shape (K, E)
        λ_max of each model at those epochs (NaN once a model diverged).
    residuals : ndarray, shape (K, E)
        The residual ``‖H u − λ_max u‖`` reached for each.
    n_samples : int
        Samples the Hessians were measured on.
    result : SweepResult or None
        The training run's result at the end (curves, final weights).
    """

    eta: np.ndarray
    lmbda: np.ndarray
    epochs: np.ndarray
    sharpness: np.ndarray
    residuals: np.ndarray
    n_samples: int
    result: SweepResult | None = field(default=None, repr=False)

    @property
    def threshold(self) -> np.ndarray:
        """``2 / λ_max`` per model and epoch, shape (K, E) (inf where λ_max <= 0, NaN where
        the model had diverged)."""
        s = self.sharpness
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isnan(s), np.nan, np.where(s > 0, 2.0 / s, np.inf))

    @property
    def stability_ratio(self) -> np.ndarray:
        """``η · λ_max / 2`` per model and epoch: 1 is the edge of stability."""
        return self.eta[:, None] * self.sharpness / 2.0

    def __str__(self) -> str:
        header = "".join(f"{e:>8d}" for e in self.epochs)
        lines = [
            f"sharpness λ_max on {self.n_samples} samples, after epoch:",
            f"{'':28}{header}",
        ]
        for k in range(len(self.eta)):
            label = f"η = {self.eta[k]:g} (2/η = {2 / self.eta[k]:.4g})"
            lines.append(f"  {label:<26}" + "".join(f"{v:8.4g}" for v in self.sharpness[k]))
        return "\n".join(lines)


class SharpnessMonitor:
    """A callback for :meth:`sgdfast.Trainer.run` / ``sweep(callback=...)`` that measures
    the sharpness of a few models every ``every`` epochs.

    Each measurement warm-starts Lanczos from the model's previous top eigenvector, so it
    typically costs a handful of Hessian-vector products on ``subsample`` samples.

    Parameters
    ----------
    data : Dataset or (X, y)
        The training set (the same the trainer trains on).
    models : sequence of int, optional
        Which models (rows of the sweep); default all.
    every : int
        Measure after epochs that are multiples of ``every``.
    subsample, tol, max_iter, method, seed, n_threads
        As in :func:`sharpness`; the subsample is the same at every epoch. Default: 2000
        samples, tol 1e-4 (eigenvalues to ~1e-7 relative).

    Attributes
    ----------
    epochs : list of int
    sharpness, residuals : list of ndarray
        One array of len(models) per measurement.
    """

    def __init__(
        self,
        data: Dataset | tuple[Any, Any],
        *,
        models: Sequence[int] | None = None,
        every: int = 1,
        subsample: int | None = 2000,
        tol: float = 1e-4,
        max_iter: int = 100,
        method: str = "lanczos",
        seed: int = 0,
        n_threads: int | None = None,
    ) -> None:
        self.data = as_dataset(data, name="data")
        self.models = (
            None if models is None else [check.positive_int(m, "models", minimum=0) for m in models]
        )
        self.every = check.positive_int(every, "every")
        self.options: dict[str, Any] = dict(
            subsample=subsample,
            tol=tol,
            max_iter=max_iter,
            method=method,
            seed=seed,
            n_threads=n_threads,
        )
        self.epochs: list[int] = []
        self.sharpness: list[np.ndarray] = []
        self.residuals: list[np.ndarray] = []
        self.n_samples = 0
        self._v0: dict[int, np.ndarray] = {}

    def __call__(self, trainer: Trainer) -> None:
        if trainer.epoch % self.every == 0:
            self.measure(trainer.result())

    def measure(self, result: SweepResult) -> None:
        """Measure every monitored model of ``result`` now (at epoch ``result.epochs``)."""
        models = range(result.n_models) if self.models is None else self.models
        values, residuals = [], []
        for m in models:
            if m >= result.n_models:
                raise ValueError(f"models: the sweep has {result.n_models} models, got {m}")
            if result.diverged[m]:
                values.append(np.nan)
                residuals.append(np.nan)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # reported in `residuals`
                s = sharpness_of(result, m, self.data, v0=self._v0.get(m), **self.options)
            self._v0[m] = s.eigenvectors[0]
            self.n_samples = s.n_samples
            values.append(s.lambda_max)
            residuals.append(float(s.residuals[0]))
        self.epochs.append(result.epochs)
        self.sharpness.append(np.array(values))
        self.residuals.append(np.array(residuals))

    def history(self, result: SweepResult) -> SharpnessHistory:
        """The measurements so far, with ``result``'s hyper-parameters."""
        models = list(range(result.n_models)) if self.models is None else self.models
        return SharpnessHistory(
            eta=np.asarray(result.eta)[models],
            lmbda=np.asarray(result.lmbda)[models],
            epochs=np.array(self.epochs, dtype=np.int64),
            sharpness=np.array(self.sharpness).T.reshape(len(models), len(self.epochs)),
            residuals=np.array(self.residuals).T.reshape(len(models), len(self.epochs)),
            n_samples=self.n_samples,
            result=result,
        )


def sharpness_along_training(
    training_data: Dataset | tuple[Any, Any],
    *,
    eta: float | Sequence[float],
    epochs: int,
    every: int = 1,
    subsample: int | None = 2000,
    tol: float = 1e-4,
    max_iter: int = 100,
    sharpness_seed: int = 0,
    **trainer_kwargs: Any,
) -> SharpnessHistory:
    """Train a few models with :class:`sgdfast.Trainer` and measure their sharpness at
    initialisation and every ``every`` epochs.

    Under full-batch gradient descent (``batch_size = len(training_data)``) the sharpness
    typically rises during training until it reaches ``2/η`` and then hovers there, the
    "edge of stability"; mini-batch SGD tends to stay below it.

    Parameters
    ----------
    training_data : Dataset or (X, y)
    eta : float or sequence of float
        One model per learning rate (keep it to a few: each measurement costs a few dozen
        passes over ``subsample`` samples per model).
    epochs : int
    every : int
        Measure after every ``every``-th epoch (and at initialisation).
    subsample, tol, max_iter
        As in :func:`sharpness`, for every measurement (same subsample throughout).
    sharpness_seed : int
        Seeds the subsample and Lanczos' first start vector.
    **trainer_kwargs
        Passed to :class:`sgdfast.Trainer`: lmbda, batch_size, sizes, cost, init, seed,
        dtype, n_threads, ...

    Returns
    -------
    SharpnessHistory
        ``sharpness`` (K, E), ``threshold`` = 2/λ_max, ``stability_ratio`` = ηλ_max/2 and
        the final ``result``.
    """
    from ._trainer import Trainer

    epochs = check.positive_int(epochs, "epochs")
    trainer = Trainer(training_data, eta=eta, **trainer_kwargs)
    monitor = SharpnessMonitor(
        training_data,
        every=every,
        subsample=subsample,
        tol=tol,
        max_iter=max_iter,
        seed=sharpness_seed,
        n_threads=trainer_kwargs.get("n_threads"),
    )
    monitor.measure(trainer.result())
    for _ in range(epochs):
        trainer.run_epoch()
        monitor(trainer)
        if not trainer.active.any():
            break
    return monitor.history(trainer.result())


# --------------------------------------------------------------------------------------------
# Predicted vs empirical threshold
# --------------------------------------------------------------------------------------------


@dataclass
class ThresholdComparison:
    """The predicted threshold 2/λ_max next to an empirical one.

    Attributes
    ----------
    sharpness_at_init : float or None
        λ_max at the initial weights.
    predicted_at_init : float or None
        ``2 / sharpness_at_init``.
    history : SharpnessHistory or None
        Sharpness along training (2/λ_max per model and epoch: ``history.threshold``).
    empirical : float or None
        The measured threshold (largest η whose training cost still decreases).
    bracket : (float, float) or None
        An interval known to hold the empirical threshold.
    probes : list of (float, bool)
        (η, stable) pairs the empirical threshold came from (stable: cost decreased).
    """

    sharpness_at_init: float | None
    predicted_at_init: float | None
    history: SharpnessHistory | None
    empirical: float | None
    bracket: tuple[float, float] | None
    probes: list[tuple[float, bool]]

    @property
    def ratio(self) -> float | None:
        """``empirical / predicted_at_init``."""
        if self.empirical is None or not self.predicted_at_init:
            return None
        return self.empirical / self.predicted_at_init

    @property
    def predicted_min(self) -> float | None:
        """The smallest 2/λ_max seen along training (the sharpest point any model reached)."""
        if self.history is None:
            return self.predicted_at_init
        values = self.history.threshold[np.isfinite(self.history.threshold)]
        return float(values.min()) if values.size else None

    def __str__(self) -> str:
        lines = []
        if self.predicted_at_init is not None:
            lines.append(
                f"predicted (at init):   2/λ_max = 2/{self.sharpness_at_init:.4g} = "
                f"{self.predicted_at_init:.4g}"
            )
        if self.history is not None and self.predicted_min is not None:
            lines.append(f"predicted (min along training): {self.predicted_min:.4g}")
        if self.empirical is not None:
            line = f"empirical:             {self.empirical:.4g}"
            if self.bracket is not None:
                line += f" (bracket {self.bracket[0]:.4g} – {self.bracket[1]:.4g})"
            lines.append(line)
        if self.ratio is not None:
            lines.append(f"empirical / predicted at init = {self.ratio:.3g}")
        return "\n".join(lines) if lines else "ThresholdComparison (empty)"


_CLASS_ATTRIBUTES = ("cls", "class_", "classification", "label", "kind", "verdict")


def _probe(p: Any) -> tuple[float, bool]:
    """(η, stable) from an (η, class) pair or an object with ``eta`` and a class."""
    if isinstance(p, (tuple, list)) and len(p) >= 2:
        eta, verdict = p[0], p[-1]  # (η, class) or (η, curve, class)
    else:
        eta = getattr(p, "eta", None)
        verdict = next((getattr(p, a) for a in _CLASS_ATTRIBUTES if hasattr(p, a)), None)
        if hasattr(p, "stable"):
            verdict = p.stable
    if not isinstance(eta, numbers.Real) or verdict is None:
        raise TypeError(
            f"empirical: cannot read probe {p!r}; expected an (η, class) pair or an object "
            f"with 'eta' and one of {_CLASS_ATTRIBUTES}"
        )
    if isinstance(verdict, str):
        return float(eta), verdict.lower() in ("decreasing", "stable", "ok", "converged")
    return float(eta), bool(verdict)


def _empirical(empirical: Any) -> tuple[float | None, tuple[float, float] | None, list]:
    if empirical is None:
        return None, None, []
    if isinstance(empirical, numbers.Real) and not isinstance(empirical, bool):
        return float(empirical), None, []
    if hasattr(empirical, "threshold"):
        bracket = getattr(empirical, "bracket", None)
        probes = [_probe(p) for p in (getattr(empirical, "probes", None) or [])]
        return (
            float(empirical.threshold),
            None if bracket is None else (float(bracket[0]), float(bracket[1])),
            probes,
        )
    if isinstance(empirical, Sequence) and not isinstance(empirical, str):
        # The largest stable η below the first unstable one, bracketed by that one.
        probes = [_probe(p) for p in empirical]
        first_bad = min((eta for eta, ok in probes if not ok), default=math.inf)
        stable = [eta for eta, ok in probes if ok and eta < first_bad]
        if not stable:
            return None, None, probes
        bracket = (max(stable), first_bad) if math.isfinite(first_bad) else None
        return max(stable), bracket, probes
    raise TypeError(
        "empirical: expected a number, a threshold-search result (with .threshold), or a "
        f"list of (η, class) probes; got {type(empirical).__name__}"
    )


def compare_thresholds(
    at_init: SharpnessResult | float | None = None,
    *,
    history: SharpnessHistory | None = None,
    empirical: Any = None,
) -> ThresholdComparison:
    """Put the predicted threshold 2/λ_max and an empirical threshold side by side.

    Parameters
    ----------
    at_init : SharpnessResult or float, optional
        The sharpness at the initial weights (a result of :func:`sharpness`, or λ_max).
        Default: the first model's epoch-0 value in ``history``, if it has one.
    history : SharpnessHistory, optional
        Sharpness along training (:func:`sharpness_along_training`).
    empirical : float, threshold-search result, or list of probes, optional
        The empirical threshold: a number; an object with ``threshold`` (and optionally
        ``bracket`` and ``probes``), as the threshold search returns; or a list of probes,
        each an ``(η, class)`` pair or an object with ``eta`` and a class attribute
        (``cls``, ``class_``, ``classification`` or ``label``), where the class is
        ``"decreasing"`` (or True) for a stable run. From probes alone, the threshold is the
        largest stable η below the smallest unstable one.

    Returns
    -------
    ThresholdComparison
    """
    if isinstance(at_init, SharpnessResult):
        lam: float | None = at_init.lambda_max
    elif at_init is None:
        lam = None
        if history is not None and len(history.epochs) and history.epochs[0] == 0:
            lam = float(history.sharpness[0, 0])
    elif isinstance(at_init, numbers.Real) and not isinstance(at_init, bool):
        lam = float(at_init)
    else:
        raise TypeError(
            f"at_init: expected a SharpnessResult or a number, got {type(at_init).__name__}"
        )
    threshold, bracket, probes = _empirical(empirical)
    return ThresholdComparison(
        sharpness_at_init=lam,
        predicted_at_init=None if lam is None else _threshold(lam),
        history=history,
        empirical=threshold,
        bracket=bracket,
        probes=probes,
    )


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (7, 4.5)) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_thresholds(comparison: ThresholdComparison, *, ax: Axes | None = None) -> Axes:
    """The predicted and empirical thresholds on one (log) η axis.

    Vertical lines: 2/λ_max at initialisation (dashed) and the empirical threshold (solid,
    its bracket shaded); probes as markers along the bottom (● stable, ✕ not). With a
    history, each model's 2/λ_max(t) is a curve over the epochs (y axis) next to a dotted
    line at its own η: where the curve comes down to its η, that run is at the edge of
    stability.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax)
    import matplotlib.transforms as mtransforms

    history = comparison.history
    if history is not None:
        for k in range(len(history.eta)):
            color = f"C{k % 10}"
            ax.plot(
                history.threshold[k],
                history.epochs,
                "-o",
                ms=3,
                color=color,
                label=f"2/λ_max(t), run at η = {history.eta[k]:g}",
            )
            ax.axvline(history.eta[k], color=color, ls=":", lw=1.2)
        ax.set_ylabel("Epoch")
    else:
        ax.set_yticks([])
    if comparison.predicted_at_init is not None:
        ax.axvline(
            comparison.predicted_at_init,
            color="k",
            ls="--",
            label=f"2/λ_max at init = {comparison.predicted_at_init:.3g}",
        )
    if comparison.empirical is not None:
        ax.axvline(
            comparison.empirical,
            color="crimson",
            lw=2,
            label=f"empirical threshold = {comparison.empirical:.3g}",
        )
    if comparison.bracket is not None:
        ax.axvspan(*comparison.bracket, color="crimson", alpha=0.08, label="empirical bracket")
    if comparison.probes:
        below = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        for ok in (True, False):
            etas = [eta for eta, s in comparison.probes if s == ok]
            if etas:
                ax.scatter(
                    etas,
                    np.full(len(etas), 0.03),
                    transform=below,
                    marker="o" if ok else "x",
                    color="seagreen" if ok else "crimson",
                    zorder=3,
                    label="probe: cost decreases" if ok else "probe: does not decrease",
                )
        if history is not None and len(history.epochs):
            ax.set_ylim(bottom=-0.12 * max(1, int(history.epochs.max())))  # room for them
    ax.set_xscale("log")
    # Probes are drawn in axes coordinates, which autoscaling ignores: widen to show them.
    etas = [eta for eta, _ in comparison.probes if eta > 0]
    if etas:
        low, high = ax.get_xlim()
        ax.set_xlim(min(low, min(etas) / 1.3), max(high, max(etas) * 1.3))
    ax.set_xlabel("Learning rate η")
    ax.set_title("Predicted (2/λ_max) and empirical learning-rate thresholds")
    ax.legend(fontsize="small")
    return ax


def plot_sharpness(history: SharpnessHistory, *, ax: Axes | None = None) -> Axes:
    """Sharpness λ_max per epoch for each model, with its stability limit 2/η dashed in the
    same colour (the edge-of-stability picture).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax)
    for k in range(len(history.eta)):
        color = f"C{k % 10}"
        ax.plot(
            history.epochs,
            history.sharpness[k],
            "-o",
            ms=3,
            color=color,
            label=f"λ_max, η = {history.eta[k]:g}",
        )
        ax.axhline(
            2 / history.eta[k], color=color, ls="--", lw=1, label=f"2/η = {2 / history.eta[k]:.3g}"
        )
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Sharpness λ_max of the training cost")
    ax.set_title(f"Sharpness along training ({history.n_samples} samples)")
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------------------------
# The analogy: explicit Euler, the trapezoidal rule, gradient descent on a quadratic
# --------------------------------------------------------------------------------------------


def euler(h: float, n_steps: int, *, rate: float = 15.0, y0: float = 1.0) -> np.ndarray:
    """Explicit Euler on ``y' = −rate·y``: ``y_{n+1} = y_n + h·(−rate·y_n)``.

    Equals ``y0·(1 − rate·h)^n``: stable only for ``h < 2/rate`` (2/15 for the stiff
    example y' = −15y); ``h = 1/8`` oscillates about zero while decaying, ``h = 1/4`` blows
    up.

    Returns
    -------
    ndarray, shape (n_steps + 1,)
        ``y_0 … y_n``.
    """
    y = np.empty(n_steps + 1)
    y[0] = y0
    for n in range(n_steps):
        y[n + 1] = y[n] + h * (-rate * y[n])
    return y


def trapezoidal(h: float, n_steps: int, *, rate: float = 15.0, y0: float = 1.0) -> np.ndarray:
    """The trapezoidal rule on ``y' = −rate·y``: ``y_{n+1} = y_n + (h/2)·(f(y_n) + f(y_{n+1}))``.

    Implicit; for this linear equation each step solves to
    ``y_{n+1} = y_n · (1 − rate·h/2) / (1 + rate·h/2)``: stable for every h > 0 (A-stable),
    and decaying monotonically while ``h < 2/rate``.

    Returns
    -------
    ndarray, shape (n_steps + 1,)
    """
    y = np.empty(n_steps + 1)
    y[0] = y0
    for n in range(n_steps):
        # y_{n+1} = y_n + h/2·(−rate·y_n − rate·y_{n+1}), solved for y_{n+1}.
        y[n + 1] = (y[n] - 0.5 * h * rate * y[n]) / (1 + 0.5 * h * rate)
    return y


def _eigenvalues(hessian: Any) -> np.ndarray:
    a = np.asarray(hessian, dtype=np.float64)
    if a.ndim == 0:
        return a.reshape(1)
    if a.ndim == 1:
        return a
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(a, a.T):
        return np.linalg.eigvalsh(a)
    raise ValueError("hessian: expected a number, a vector of eigenvalues or a symmetric matrix")


def stability_limit(hessian: Any) -> float:
    """The largest stable step ``2 / λ_max`` of explicit Euler on ``y' = −A y``, which is
    gradient descent on ``C(θ) = ½ θᵀAθ``.

    Parameters
    ----------
    hessian : float, 1-D array of eigenvalues, or symmetric matrix A
        ``15`` for y' = −15y (limit 2/15); a Hessian for gradient descent.

    Returns
    -------
    float
        ``2 / λ_max(A)`` (``inf`` if λ_max <= 0: then no step size is unstable).
    """
    return _threshold(float(np.max(_eigenvalues(hessian))))


def gradient_descent_quadratic(
    hessian: Any, eta: float, n_steps: int, theta0: Any = None
) -> np.ndarray:
    """Gradient descent ``θ ← θ − η·Aθ`` on the quadratic cost ``C(θ) = ½ θᵀAθ``.

    Explicit Euler with step η on the gradient flow ``θ' = −Aθ``. Along each eigenvector
    of A the iterate is multiplied by ``1 − η·λ_i`` per step: it converges for
    ``η < 2/λ_max`` (:func:`stability_limit`) and diverges, oscillating, above.

    Parameters
    ----------
    hessian : 1-D array of eigenvalues (A diagonal) or symmetric matrix A
    eta : float
    n_steps : int
    theta0 : array, optional
        Start; default all ones.

    Returns
    -------
    ndarray, shape (n_steps + 1, d)
        ``θ_0 … θ_n``.
    """
    a = np.asarray(hessian, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1)
    d = a.shape[0]
    gradient = (lambda t: a * t) if a.ndim == 1 else (lambda t: a @ t)
    theta = np.ones(d) if theta0 is None else np.asarray(theta0, dtype=np.float64).copy()
    path = np.empty((n_steps + 1, d))
    path[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(n_steps):
            theta = theta - eta * gradient(theta)
            path[n + 1] = theta
    return path


def plot_stability_analogy(
    *,
    rate: float = 15.0,
    steps: Sequence[float] = (1 / 4, 1 / 8),
    eigenvalues: Sequence[float] = (10.0, 1.0),
    eta_factors: Sequence[float] = (0.9, 1.1),
    t_end: float = 2.0,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """The argument in two panels: explicit Euler vs the trapezoidal rule on the stiff
    ``y' = −rate·y`` at steps ``steps``; gradient descent on a quadratic with Hessian
    eigenvalues ``eigenvalues`` at η = factor × 2/λ_max.

    Returns
    -------
    the two matplotlib Axes
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_ode, ax_gd = axes[0], axes[1]
    t = np.linspace(0, t_end, 400)
    ax_ode.plot(t, np.exp(-rate * t), color="k", lw=1, label=f"exact e^(−{rate:g}t)")
    for i, h in enumerate(steps):
        n = round(t_end / h)
        tn = h * np.arange(n + 1)
        ax_ode.plot(
            tn,
            euler(h, n, rate=rate),
            "-o",
            color=f"C{i}",
            ms=4,
            label=f"explicit Euler, h = {h:g} (1 − {rate:g}h = {1 - rate * h:g})",
        )
        ax_ode.plot(
            tn,
            trapezoidal(h, n, rate=rate),
            "--s",
            color=f"C{i}",
            ms=3,
            alpha=0.7,
            label=f"trapezoidal, h = {h:g}",
        )
    ax_ode.set_ylim(-2.5, 2.5)
    ax_ode.axhline(0, color="0.8", lw=0.8)
    ax_ode.set_xlabel("t")
    ax_ode.set_ylabel("y")
    ax_ode.set_title(f"y' = −{rate:g}y: Euler is stable only for h < 2/{rate:g} = {2 / rate:.3g}")
    ax_ode.legend(fontsize="x-small")

    limit = stability_limit(eigenvalues)
    for i, factor in enumerate(eta_factors):
        eta = factor * limit
        path = gradient_descent_quadratic(eigenvalues, eta, 60)
        cost = 0.5 * np.sum(np.asarray(eigenvalues) * path**2, axis=1)
        ax_gd.semilogy(cost, "-", color=f"C{i + 2}", label=f"η = {factor:g} × 2/λ_max = {eta:.3g}")
    ax_gd.set_xlabel("Step")
    ax_gd.set_ylabel("Cost ½ θᵀAθ")
    lam = ", ".join(f"{v:g}" for v in eigenvalues)
    ax_gd.set_title(f"Gradient descent, Hessian eigenvalues {lam}: limit 2/λ_max = {limit:.3g}")
    ax_gd.legend(fontsize="small")
    return axes
