"""Argument checks shared by the public API. Each failure names the argument."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np


def positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; TypeError for non-integers (bools included)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def optional_positive_int(value: object, name: str) -> int | None:
    return None if value is None else positive_int(value, name)


def real_grid(values: object, name: str, *, strictly_positive: bool) -> list[float]:
    """A scalar or a non-empty 1-D sequence of finite reals, each > 0 (or >= 0)."""
    items = list(np.atleast_1d(np.asarray(values, dtype=object)).ravel())
    if np.ndim(np.asarray(values, dtype=object)) > 1:
        raise ValueError(f"{name}: expected a number or a 1-D sequence of numbers")
    if not items:
        raise ValueError(f"{name}: the grid is empty; give at least one value")
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}: expected real numbers, got {v!r} ({type(v).__name__})")
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{name}: every value must be finite, got {f}")
        if strictly_positive and f <= 0:
            raise ValueError(f"{name}: every value must be > 0, got {f}")
        if not strictly_positive and f < 0:
            raise ValueError(f"{name}: every value must be >= 0, got {f}")
        out.append(f)
    return out


def int_grid(values: object, name: str) -> list[int]:
    """A positive int or a non-empty sequence of them."""
    items = (
        [values] if not isinstance(values, Iterable) or isinstance(values, str) else list(values)
    )
    if not items:
        raise ValueError(f"{name}: the grid is empty; give at least one value")
    return [positive_int(v, name) for v in items]


def choice(value: object, name: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {list(allowed)}, got {value!r}")
    if value not in allowed:
        raise ValueError(f"{name}: unknown value {value!r}; expected one of {list(allowed)}")
    return value


def dtype(value: object) -> np.dtype:
    try:
        dt = np.dtype(value)  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"dtype: expected float32 or float64, got {value!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype: expected float32 or float64, got {dt}")
    return dt


def sizes(value: object, n_features: int, n_classes: int) -> tuple[int, ...]:
    """Layer sizes consistent with the data: input = n_features, output >= n_classes."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"sizes: expected a sequence of layer sizes, got {value!r}")
    out = tuple(positive_int(s, "sizes") for s in value)
    if len(out) < 2:
        raise ValueError(f"sizes: need at least an input and an output layer, got {out}")
    if out[0] != n_features:
        raise ValueError(
            f"sizes: the input layer has {out[0]} units but the training data has "
            f"{n_features} features"
        )
    if out[-1] < n_classes:
        raise ValueError(
            f"sizes: the output layer has {out[-1]} units but the labels go up to "
            f"{n_classes - 1} (need one output unit per class)"
        )
    return out


def memory_limit_bytes() -> int:
    """What a sweep may use: 80% of physical memory (8 GiB where that can't be read)."""
    try:
        total = os_total_memory()
    except (ValueError, OSError, AttributeError):
        total = 10 * 2**30
    return int(0.8 * total)


def os_total_memory() -> int:
    import os

    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def sample_indices(value: object, name: str, n: int) -> np.ndarray:
    """A non-empty 1-D array of integer sample indices in ``[0, n)``, as int64."""
    array = np.asarray(value)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of sample indices")
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer sample indices, got dtype {array.dtype}")
    if array.min() < 0 or array.max() >= n:
        raise ValueError(
            f"{name}: indices must lie in [0, {n}), got [{array.min()}, {array.max()}]"
        )
    return np.ascontiguousarray(array, dtype=np.int64)


def real_in(
    value: object,
    name: str,
    low: float,
    high: float,
    *,
    open_low: bool = True,
    open_high: bool = False,
) -> float:
    """A finite real number in the interval from ``low`` to ``high`` (open or closed ends)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r} ({type(value).__name__})")
    f = float(value)
    above = f > low if open_low else f >= low
    below = f < high if open_high else f <= high
    if not (math.isfinite(f) and above and below):
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"{name}: must lie in {interval}, got {f}")
    return f


def positive_real(value: object, name: str, *, minimum: float = 0.0) -> float:
    """A finite real number > ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r} ({type(value).__name__})")
    f = float(value)
    if not math.isfinite(f) or f <= minimum:
        raise ValueError(f"{name}: must be a finite number > {minimum:g}, got {f}")
    return f
