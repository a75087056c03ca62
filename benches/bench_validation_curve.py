"""sgdfast.validation_curve against scikit-learn's validation_curve, measured in one run.

Both compute the same thing: the training and test accuracy of an SGDNetClassifier
([784, 30, 10], m = 10) for each learning rate of a log-spaced range, k-fold cross-validated
on the first N MNIST training images (random pixels if MNIST is not found). scikit-learn
fits one model per (η, fold); sgdfast trains all the η of a fold at once in one fused sweep.
The script checks that the scores are identical and prints both times and their ratio.

    python benches/bench_validation_curve.py            # full
    python benches/bench_validation_curve.py --short    # CI smoke run
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import validation_curve as sklearn_validation_curve

import sgdfast
from sgdfast._bench import synthetic_data
from sgdfast.data import DataNotFoundError
from sgdfast.estimator import SGDNetClassifier, validation_curve


def training_data(n: int) -> tuple[sgdfast.Dataset, str]:
    try:
        data = sgdfast.load_mnist(download=False, validation_size=1).train[:n]
        return data, "MNIST"
    except DataNotFoundError:
        return synthetic_data(n), "random pixels (MNIST not found)"


def seconds(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a quick smoke run")
    parser.add_argument("--samples", type=int, help="training images (default 10000)")
    parser.add_argument("--values", type=int, help="learning rates in the range (default 16)")
    parser.add_argument("--epochs", type=int, help="epochs per fit (default 5)")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    n = args.samples or (2_000 if args.short else 10_000)
    n_values = args.values or (8 if args.short else 16)
    epochs = args.epochs or (2 if args.short else 5)

    data, source = training_data(n)
    etas = np.geomspace(0.01, 10.0, n_values).tolist()
    estimator = SGDNetClassifier(30, lmbda=5.0, epochs=epochs, random_state=0)
    kwargs = {"param_name": "eta", "param_range": etas, "cv": args.folds}
    print(
        f"data: {n} images ({source}); {os.cpu_count()} cores, kernels: {sgdfast.isa()}\n"
        f"SGDNetClassifier([784, 30, 10], m=10, λ=5, {epochs} epochs), {n_values} values of "
        f"η in [0.01, 10], {args.folds}-fold: {n_values * args.folds} fits\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the largest η diverge
        fused_s, fused = seconds(validation_curve, estimator, data.X, data.y, **kwargs)
        loop_s, loop = seconds(sklearn_validation_curve, estimator, data.X, data.y, **kwargs)
    same = all(np.array_equal(a, b) for a, b in zip(fused, loop))
    print(f"{'scikit-learn validation_curve (one fit per value)':<52} {loop_s:8.2f} s")
    print(f"{'sgdfast.validation_curve (one fused sweep per fold)':<52} {fused_s:8.2f} s")
    print(f"{'speed-up':<52} {loop_s / fused_s:8.1f} ×")
    print(f"scores identical: {same}")
    best = int(np.argmax(fused[1].mean(axis=1)))
    print(f"best η by mean test accuracy: {etas[best]:.3g} ({fused[1][best].mean():.4f})")
    if not same:
        raise SystemExit("the two validation curves differ")


if __name__ == "__main__":
    main()
