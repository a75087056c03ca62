"""Make the README's gallery: every figure from a real run on MNIST.

    SGDFAST_DATA=../shared/data/mnist python docs/make_gallery.py          # all figures
    python docs/make_gallery.py --only fan                                 # one of them

Writes PNG files beside this script (or into ``--out``) and prints how long each run took.
MNIST comes from ``sgdfast.load_mnist()`` (``$SGDFAST_DATA``, else the cache, downloading it
once). A few minutes on two cores.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

import sgdfast
from sgdfast.data import MNIST

HERE = Path(__file__).resolve().parent
DPI = 110


def new_figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), constrained_layout=True)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def book_curves(data: MNIST, out: Path) -> str:
    """Chapter 3's figure: the training cost at η = 0.025, 0.25, 2.5."""
    res = sgdfast.sweep(
        data.train,
        eta=[0.025, 0.25, 2.5],
        lmbda=5.0,
        epochs=30,
        batch_size=10,
        sizes=(784, 30, 10),
        seed=1,
    )
    fig, (ax,) = new_figure(7, 4.5)
    sgdfast.plot_cost(res, ax=ax)
    ax.set_title("[784, 30, 10], cross-entropy, λ = 5, m = 10, 50,000 MNIST images")
    fig.savefig(out, dpi=DPI)
    return f"{res.n_models} models x 30 epochs on {len(data.train)} images"


def eta_fan(data: MNIST, out: Path) -> str:
    """64 learning rates over five decades in one fused sweep: the training cost per epoch,
    coloured by η, and the last epoch's validation accuracy against η."""
    n = 10_000
    etas = np.geomspace(1e-3, 1e2, 64)
    res = sgdfast.sweep(
        data.train[:n],
        eta=etas.tolist(),
        lmbda=1.0,  # the book's λ/n = 5/50,000 on 10,000 images
        epochs=30,
        evaluation_data=data.validation,
        monitor=("training_cost", "evaluation_accuracy"),
        seed=1,
    )
    fig, (left, right) = new_figure(12, 4.5, ncols=2)
    mapper = ScalarMappable(norm=LogNorm(etas[0], etas[-1]), cmap="viridis")
    epochs = np.arange(res.epochs)
    for k, eta in enumerate(res.eta):
        left.plot(epochs, res.training_cost[k], color=mapper.to_rgba(eta), linewidth=1)
    left.set_yscale("log")
    left.set_xlabel("Epoch")
    left.set_ylabel("Training cost")
    diverged = f" ({int(res.diverged.sum())} diverge)" if res.diverged.any() else ""
    left.set_title(f"64 learning rates from 0.001 to 100, one sweep{diverged}")
    fig.colorbar(mapper, ax=left, label="η")
    final = res.evaluation_accuracy[:, -1]
    right.semilogx(res.eta, final, "o-", markersize=3, color="tab:blue")
    if res.diverged.any():
        right.semilogx(
            res.eta[res.diverged],
            np.zeros(res.diverged.sum()),
            "x",
            color="tab:red",
            label="diverged",
        )
    best = int(np.nanargmax(final))
    right.axvline(res.eta[best], color="grey", linestyle=":", label=f"best η = {res.eta[best]:.3g}")
    right.set_xlabel("η")
    right.set_ylabel("Validation accuracy after 30 epochs")
    right.set_ylim(0, 1)
    right.legend(loc="lower left")
    right.set_title("[784, 30, 10], λ = 1, m = 10, 10,000 training images")
    fig.savefig(out, dpi=DPI)
    return f"{res.n_models} models x 30 epochs on {n} images"


def threshold_search(data: MNIST, out: Path) -> str:
    """The book's threshold search: each probe's early training cost, and the monotonicity
    that classifies it against η, with the bracket, threshold and recommendation marked."""
    from sgdfast.plotting import plot_probes, plot_threshold
    from sgdfast.threshold import find_threshold

    search = find_threshold(data.train, lmbda=5.0, sizes=(784, 30, 10), seed=1)
    fig, (left, right) = new_figure(12, 4.5, ncols=2)
    plot_probes(search, ax=left)
    left.set_title(f"{len(search.probes)} probes, {search.model_epochs:.0f} model-epochs")
    plot_threshold(search, ax=right)
    right.set_title("[784, 30, 10], λ = 5, m = 10, 50,000 MNIST images")
    fig.savefig(out, dpi=DPI)
    return f"threshold {search.threshold:.3g}, recommendation {search.recommendation:.3g}"


FIGURES: dict[str, tuple[str, Callable[[MNIST, Path], str]]] = {
    "book": ("gallery_book_curves.png", book_curves),
    "fan": ("gallery_eta_fan.png", eta_fan),
    "threshold": ("gallery_threshold_search.png", threshold_search),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNG files")
    parser.add_argument("--only", nargs="+", choices=FIGURES, help="make only these figures")
    args = parser.parse_args()
    data = sgdfast.load_mnist()
    for name in args.only or FIGURES:
        filename, make = FIGURES[name]
        start = time.perf_counter()
        what = make(data, args.out / filename)
        print(f"{filename}: {what} ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
