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

from . import reference
from ._core import isa
from ._trainer import SweepResult, Trainer, sweep
from .data import DataError, DataNotFoundError, Dataset, as_dataset, load_mnist
from .plotting import plot_cost

__all__ = [
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "SweepResult",
    "Trainer",
    "as_dataset",
    "isa",
    "load_mnist",
    "plot_cost",
    "reference",
    "sweep",
]

__version__ = "0.1.0"
