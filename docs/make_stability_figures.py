"""Figures and numbers of docs/stability.md, from real runs on MNIST.

    SGDFAST_DATA=../shared/data/mnist python docs/make_stability_figures.py [--quick]

Writes docs/stability_analogy.png, docs/stability_thresholds.png and
docs/edge_of_stability.png, and prints the numbers the page quotes. The empirical threshold
of the figure comes from ``sgdfast.threshold.find_threshold`` where it is installed, else
from a coarse probe sweep run here. About three minutes on 2 cores (``--quick``: smaller
subsamples and fewer epochs, under a minute, for a smoke test; its numbers are rougher).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import sgdfast
from sgdfast import stability as st

DOCS = Path(__file__).resolve().parent
SIZES = (784, 30, 10)
LMBDA = 5.0
PROBE_ETAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.5, 5.0]
PROBE_EPOCHS = 4


def save(fig: plt.Figure, name: str) -> None:
    fig.tight_layout()
    fig.savefig(DOCS / name, dpi=110)
    plt.close(fig)
    print(f"wrote docs/{name}")


def initial_model(seed: int, data: sgdfast.Dataset) -> sgdfast.SweepResult:
    """The book's network at initialisation (the weights a sweep with this seed starts from)."""
    trainer = sgdfast.Trainer(
        data[:10], eta=1.0, lmbda=LMBDA, sizes=SIZES, seed=seed, dtype="float64"
    )
    return trainer.result()


def sharpness_at_init(train: sgdfast.Dataset, subsample: int | None, seeds: list[int]) -> float:
    print(f"\n## Sharpness at initialisation, {list(SIZES)}, λ = {LMBDA}, cross-entropy")
    values = []
    for seed in seeds:
        t = time.perf_counter()
        s = st.sharpness_of(initial_model(seed, train), 0, train, k=3, subsample=subsample)
        values.append(s.lambda_max)
        print(f"seed {seed}, {s.n_samples} samples ({time.perf_counter() - t:.0f} s):")
        print("  " + str(s).replace("\n", "\n  "))
    mean = float(np.mean(values))
    print(f"mean λ_max = {mean:.3f}  →  2/λ_max = {2 / mean:.3f}  (the book: ~0.5)")
    return mean


def probes(train: sgdfast.Dataset) -> list[tuple[float, str]]:
    """A coarse empirical threshold: which η have a training cost that falls in each of the
    first PROBE_EPOCHS epochs (mini-batch SGD as in the book, m = 10)."""
    print(f"\n## Empirical probes: SGD, m = 10, cost falling in each of {PROBE_EPOCHS} epochs")
    res = sgdfast.sweep(train, eta=PROBE_ETAS, lmbda=LMBDA, epochs=PROBE_EPOCHS, seed=0)
    out = []
    for eta, curve in zip(res.eta, res.training_cost):
        ok = bool(np.all(np.diff(curve) < 0))
        out.append((float(eta), "decreasing" if ok else "not decreasing"))
        print(f"  η = {eta:<5g} {np.array2string(curve, precision=4)}  {out[-1][1]}")
    return out


def threshold_search(train: sgdfast.Dataset) -> object | None:
    """The threshold search of sgdfast.threshold (chapter 3's procedure), if installed."""
    try:
        from sgdfast.threshold import find_threshold
    except ImportError:
        print("\n(sgdfast.threshold.find_threshold is not available: using the coarse probes)")
        return None
    print("\n## Threshold search (sgdfast.threshold.find_threshold)")
    search = find_threshold(train, lmbda=LMBDA, seed=0)
    print(search)
    return search


def batch_sharpness(result: sgdfast.SweepResult, model: int, train: sgdfast.Dataset) -> float:
    """Mean λ_max of the cost of one mini-batch of 10 (20 random batches)."""
    return float(
        np.mean(
            [
                st.sharpness_of(result, model, train, subsample=10, seed=s, tol=1e-4).lambda_max
                for s in range(20)
            ]
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, rougher numbers")
    quick = parser.parse_args().quick
    start = time.perf_counter()

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    st.plot_stability_analogy(axes=axes)
    save(fig, "stability_analogy.png")

    train = sgdfast.load_mnist().train
    lam0 = sharpness_at_init(train, 2000 if quick else 10_000, [0, 1, 2])
    if not quick:
        s = st.sharpness_of(initial_model(0, train), 0, train)
        print(f"seed 0 on all {s.n_samples} samples: λ_max = {s.lambda_max:.4f}")

    probe_list = probes(train)
    search = threshold_search(train)

    epochs = 3 if quick else 10
    print(f"\n## SGD (m = 10, λ = {LMBDA}) at the book's η: sharpness per epoch, 2000 samples")
    sgd = st.sharpness_along_training(
        train, eta=[0.025, 0.25, 2.5], epochs=epochs, lmbda=LMBDA, batch_size=10, seed=0
    )
    print(sgd)
    assert sgd.result is not None
    print("mini-batch sharpness (mean λ_max of the cost of one batch of 10, 20 batches):")
    print(f"  at init: {batch_sharpness(initial_model(0, train), 0, train):.3f}")
    for k, eta in enumerate(sgd.eta):
        print(
            f"  after {epochs} epochs at η = {eta:g}: {batch_sharpness(sgd.result, k, train):.3f}"
        )

    print(
        "\n## Thresholds, with the coarse probes\n"
        + str(st.compare_thresholds(lam0, empirical=probe_list))
    )
    empirical = probe_list if search is None else search
    comparison = st.compare_thresholds(lam0, history=sgd, empirical=empirical)
    print("\n## Thresholds (the figure)\n" + str(comparison))
    fig, ax = plt.subplots(figsize=(9, 5))
    st.plot_thresholds(comparison, ax=ax)
    ax.set_title(
        f"{list(SIZES)} on MNIST, λ = {LMBDA}: predicted 2/λ_max vs the empirical threshold"
    )
    save(fig, "stability_thresholds.png")

    n_gd, steps, every = (500, 60, 5) if quick else (1000, 200, 5)
    print(f"\n## Full-batch gradient descent on {n_gd} MNIST images: edge of stability")
    gd = st.sharpness_along_training(
        train[:n_gd],
        eta=[0.5, 1.5, 3.0],
        epochs=steps,
        every=every,
        lmbda=LMBDA,
        batch_size=n_gd,
        subsample=None,
        seed=0,
    )
    print(gd)
    tail = gd.stability_ratio[:, gd.epochs >= steps // 2]
    for k, eta in enumerate(gd.eta):
        print(
            f"  η = {eta:g}: η·λ_max/2 over the second half: "
            f"{tail[k].min():.3f} – {tail[k].max():.3f}"
        )
    assert gd.result is not None
    fig, (ax_s, ax_c) = plt.subplots(1, 2, figsize=(12, 4.4))
    st.plot_sharpness(gd, ax=ax_s)
    ax_s.set_xlabel("Step (full-batch gradient descent)")
    ax_s.set_ylim(0, 1.15 * np.nanmax(gd.sharpness))
    for k, eta in enumerate(gd.eta):
        ax_c.plot(np.arange(1, steps + 1), gd.result.training_cost[k], label=f"η = {eta:g}")
    ax_c.set_yscale("log")
    ax_c.set_xlabel("Step")
    ax_c.set_ylabel("Training cost (with the L2 term)")
    ax_c.set_title("Training cost per step")
    ax_c.legend()
    save(fig, "edge_of_stability.png")
    print(f"\ndone in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
