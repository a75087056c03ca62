"""sgdfast: fast learning-rate sweeps for small networks.

Trains many independent mini-batch SGD runs of one fully-connected sigmoid network on the
same data at once (a Rust engine, every core), the way chapter 3 of Michael Nielsen's
*Neural Networks and Deep Learning* chooses the learning rate.

>>> import sgdfast
>>> data = sgdfast.load_mnist()                                  # doctest: +SKIP
>>> res = sgdfast.sweep(data.train, eta=[0.025, 0.25, 2.5], lmbda=5.0, epochs=30)  # doctest: +SKIP
>>> sgdfast.plot_cost(res)                                       # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import reference, schedules, selection, stability, threshold
from ._core import isa
from ._result import SweepResult
from ._trainer import Trainer, sweep
from .data import DataError, DataNotFoundError, Dataset, as_dataset, load_mnist
from .plotting import plot_cost, plot_probes, plot_selection, plot_threshold
from .schedules import Constant, ReduceOnPlateau, Steps
from .selection import Selection, select_hyperparameters
from .stability import (
    SharpnessResult,
    compare_thresholds,
    plot_thresholds,
    sharpness,
    sharpness_along_training,
    sharpness_of,
)
from .threshold import ThresholdNotFoundError, ThresholdSearch, classify_curve, find_threshold

if TYPE_CHECKING:
    from .estimator import SGDNetClassifier, validation_curve

__all__ = [
    "Constant",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "ReduceOnPlateau",
    "SGDNetClassifier",
    "Selection",
    "SharpnessResult",
    "Steps",
    "SweepResult",
    "ThresholdNotFoundError",
    "ThresholdSearch",
    "Trainer",
    "as_dataset",
    "classify_curve",
    "compare_thresholds",
    "find_threshold",
    "isa",
    "load_mnist",
    "plot_cost",
    "plot_probes",
    "plot_selection",
    "plot_threshold",
    "plot_thresholds",
    "reference",
    "schedules",
    "select_hyperparameters",
    "selection",
    "sharpness",
    "sharpness_along_training",
    "sharpness_of",
    "stability",
    "sweep",
    "threshold",
    "validation_curve",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The scikit-learn estimator loads on first use: scikit-learn is an optional extra.
    if name in ("SGDNetClassifier", "validation_curve"):
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'sgdfast' has no attribute {name!r}")
