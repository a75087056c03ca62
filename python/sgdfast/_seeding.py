"""Every random draw of a sweep, derived from ``(seed, stream, index)``.

Both engines (Rust and the numpy reference) take their initial weights and mini-batch orders
from here, so the same seed gives the same experiment whichever engine runs it, whatever the
thread count. numpy's ``SeedSequence`` turns the triple into independent streams.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_INIT_STREAM = 0
_ORDER_STREAM = 1


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


def initial_params(
    sizes: Sequence[int],
    n_models: int,
    *,
    seed: int,
    init: str = "default",
    independent: bool = False,
    dtype: np.dtype | type = np.float32,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Initial weights and biases of ``n_models`` models, as network2.py draws them.

    Biases ~ N(0, 1); weights ~ N(0, 1/n_in) for ``init="default"``, N(0, 1) for
    ``"large"``. Drawn in float64 (biases of every layer first, then weights, as network2)
    and then cast to ``dtype``.

    Returns
    -------
    weights, biases : lists with one array per layer, shapes (K, out, in) and (K, out).
        With ``independent=False`` every model gets the draw of model 0.
    """
    n_draws = n_models if independent else 1
    drawn = [_draw_one(sizes, seed, i, init) for i in range(n_draws)]
    n_layers = len(sizes) - 1
    weights, biases = [], []
    for layer in range(n_layers):
        w = np.stack([d[0][layer] for d in drawn]).astype(dtype)
        b = np.stack([d[1][layer] for d in drawn]).astype(dtype)
        if not independent:
            w = np.repeat(w, n_models, axis=0)
            b = np.repeat(b, n_models, axis=0)
        weights.append(w)
        biases.append(b)
    return weights, biases


def _draw_one(
    sizes: Sequence[int], seed: int, index: int, init: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = _rng(seed, _INIT_STREAM, index)
    biases = [rng.standard_normal(n_out) for n_out in sizes[1:]]
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((n_out, n_in))
        weights.append(w / np.sqrt(n_in) if init == "default" else w)
    return weights, biases


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits the ``n`` training samples (int64)."""
    return _rng(seed, _ORDER_STREAM, epoch).permutation(n).astype(np.int64)


_SUBSAMPLE_STREAM = 2


def subsample(seed: int, n: int, size: int) -> np.ndarray:
    """A fixed random subset of ``size`` of the ``n`` training samples (sorted int64 indices),
    on which a trainer measures its training monitors when asked to."""
    chosen = _rng(seed, _SUBSAMPLE_STREAM, 0).choice(n, size=size, replace=False)
    return np.sort(chosen).astype(np.int64)
