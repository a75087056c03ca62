"""The ``sgdfast`` command: learning-rate sweeps on MNIST from the shell.

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares its options and
sets ``run=_run_<name>``, and ``_run_<name>(args)`` does the work and returns the exit
status. :data:`_COMMANDS` lists the ``_add_*`` functions; a new subcommand is one more pair
and one more entry. Option groups shared by several subcommands (data, network) have their
own ``_add_*_options`` helpers.

Exit status: 0 success; 2 bad usage (argparse errors, and ``ValueError``/``TypeError``
raised by sgdfast for bad arguments), reported as ``sgdfast: error: <message>``; 1 any other
failure (data not found, corrupt data, I/O error), reported as ``sgdfast: <message>``, with
a traceback only under ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__, _bench
from ._result import MONITORS, SAVE_SUFFIXES, SweepResult
from ._trainer import COSTS, INITS, sweep
from .data import (
    ENV_VAR,
    MNIST,
    DataError,
    DataNotFoundError,
    Dataset,
    cache_dir,
    find_mnist,
    load_mnist,
    verify_mnist,
)

if TYPE_CHECKING:
    from .threshold import ThresholdSearch

__all__ = ["UsageError", "build_parser", "main"]

PROG = "sgdfast"

# The book's chapter-3 experiment.
DEFAULT_ETA = (0.025, 0.25, 2.5)
DEFAULT_LMBDA = (5.0,)
DEFAULT_BATCH_SIZE = (10,)
DEFAULT_MONITOR = ("training_cost", "evaluation_accuracy")
MNIST_SIZES = (784, 30, 10)

PLOT_SUFFIXES = (".png", ".svg", ".pdf")

# sgdfast's argument names (which start its error messages) and the options that set them.
_OPTION_OF = {
    "eta": "--eta",
    "lmbda": "--lmbda",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "sizes": "--sizes",
    "cost": "--cost",
    "init": "--init",
    "seed": "--seed",
    "dtype": "--dtype",
    "n_threads": "--n-threads",
    "monitor": "--monitor",
    "start": "--start",
    "factor": "--factor",
    "points": "--points",
    "cost_sample": "--cost-sample",
    "resolution": "--resolution",
    "safety_factor": "--safety-factor",
}


# --------------------------------------------------------------------------------------------
# Errors and the parser
# --------------------------------------------------------------------------------------------


class UsageError(Exception):
    """Bad command-line arguments (exit status 2).

    Parameters
    ----------
    message : str
        One line, starting with ``argument --OPTION:`` where one option is to blame.
    prog : str
        The (sub)command whose ``--help`` explains the arguments, e.g. ``"sgdfast sweep"``.
    """

    def __init__(self, message: str, prog: str = PROG) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` instead of exiting on bad usage,
    so that :func:`main` returns the exit status rather than raising SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default (lists space-separated, as typed) unless it is None or
    False; keeps the line breaks of descriptions and epilogs."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            not action.option_strings
            or "%(default)" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
        ):
            return text
        if isinstance(default, (list, tuple)):
            shown = " ".join(str(v) for v in default)
        else:
            shown = str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


def _with_option_names(message: str) -> str:
    """Rewrite sgdfast's ``"eta: ..."`` messages as ``"argument --eta: ..."``."""
    head, sep, rest = message.partition(": ")
    names = head.split("/")
    if sep and all(name in _OPTION_OF for name in names):
        return f"argument {'/'.join(_OPTION_OF[name] for name in names)}: {rest}"
    return message


@contextlib.contextmanager
def _usage_errors(prog: str) -> Iterator[None]:
    """Turn the ValueError/TypeError that sgdfast raises for bad arguments into UsageError
    (DataError, a ValueError about a file, stays a failure)."""
    try:
        yield
    except DataError:
        raise
    except (ValueError, TypeError) as e:
        raise UsageError(_with_option_names(str(e)), prog) from e


# Argument types: each raises ArgumentTypeError, which argparse reports as
# "argument --OPTION: <message>".


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
    return value


def _positive_int(text: str) -> int:
    return _integer(text, 1)


def _non_negative_int(text: str) -> int:
    return _integer(text, 0)


# --------------------------------------------------------------------------------------------
# Shared option groups
# --------------------------------------------------------------------------------------------


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand's --debug must not reset the top-level one to False.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback when something fails",
    )


def _add_data_options(parser: argparse.ArgumentParser, *, training: bool = True) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        metavar="PATH",
        help=(
            "a folder holding the four MNIST IDX files (gzipped or not), or Nielsen's "
            f"mnist.pkl.gz (default: ${ENV_VAR}, else the cache folder"
            + ("; see 'sgdfast data')" if training else ")")
        ),
    )
    if not training:
        return
    group.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading MNIST into the cache folder when it is not there",
    )
    group.add_argument(
        "--validation-size",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="images taken from the end of the 60,000 training images as the validation set",
    )
    group.add_argument(
        "--train-size",
        type=_positive_int,
        metavar="N",
        help="train on the first N training images only, for quick runs (default: all)",
    )


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network and training")
    group.add_argument(
        "--sizes",
        type=_positive_int,
        nargs="+",
        metavar="N",
        help=(
            "layer sizes, input first (default: 784 30 10; for data of another shape: "
            "the number of features, 30, the number of classes)"
        ),
    )
    group.add_argument("--cost", choices=COSTS, default="cross_entropy", help="cost function")
    group.add_argument(
        "--init",
        choices=INITS,
        default="default",
        help="initial weights: 'default' ~ N(0, 1/n_in), 'large' ~ N(0, 1); biases ~ N(0, 1)",
    )
    group.add_argument(
        "--seed",
        type=_non_negative_int,
        default=1,
        help="seeds the initial weights and every epoch's shuffle",
    )
    group.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="floating-point type"
    )
    group.add_argument(
        "--independent-init",
        action="store_true",
        help="draw each model's initial weights separately (default: one draw shared by all)",
    )
    group.add_argument(
        "--n-threads",
        type=_positive_int,
        metavar="N",
        help="threads to train on (default: all cores, or $RAYON_NUM_THREADS)",
    )


def _load_data(args: argparse.Namespace) -> tuple[MNIST, Dataset, Path | None]:
    """Load MNIST as the data options say; return it, the training set to use, and where it
    was found."""
    try:
        data = load_mnist(
            args.data, download=not args.no_download, validation_size=args.validation_size
        )
    except DataError:
        raise
    except ValueError as e:  # validation_size too large for the files
        raise UsageError(f"argument --validation-size: {e}", args.prog) from e
    source = find_mnist(args.data)
    train = data.train
    if args.train_size is not None:
        if args.train_size > len(train):
            raise UsageError(
                f"argument --train-size: {args.train_size} is more than the {len(train)} "
                f"training images in {source}",
                args.prog,
            )
        train = train[: args.train_size]
    return data, train, source


def _default_sizes(train: Dataset, evaluation: Dataset | None) -> list[int]:
    """784 30 10 for MNIST; otherwise n_features, 30, n_classes."""
    n_classes = (
        train.n_classes if evaluation is None else max(train.n_classes, evaluation.n_classes)
    )
    if train.n_features == MNIST_SIZES[0] and n_classes <= MNIST_SIZES[-1]:
        return list(MNIST_SIZES)
    return [train.n_features, 30, n_classes]


# --------------------------------------------------------------------------------------------
# sgdfast sweep
# --------------------------------------------------------------------------------------------


_SWEEP_DESCRIPTION = """\
Train one model per point of the grid batch-size x eta x lmbda on MNIST, all at
once, and print each model's final monitored values. With no options this is
chapter 3 of Nielsen's book: a [784, 30, 10] network, eta in {0.025, 0.25, 2.5},
lmbda = 5, mini-batches of 10, 30 epochs on the 50,000 training images, and the
validation accuracy measured after every epoch. All models see the same
mini-batches in the same order and (by default) start from the same weights, so
their curves differ only by their hyper-parameters.
"""

_SWEEP_EPILOG = """\
Epochs are numbered from 0. A model whose cost or parameters become non-finite
stops training ("diverged at epoch E"); its later values are NaN (empty in CSV,
null in JSON).

examples:
  sgdfast sweep --plot cost.png
      the book's figure: training cost per epoch for eta = 0.025, 0.25, 2.5
  sgdfast sweep --eta 0.1 0.5 1 --lmbda 0 5 --epochs 5 --train-size 1000 \\
                --out curves.csv
      a quick 6-model grid on 1,000 images, the curves saved as tidy CSV
"""


def _add_sweep(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="train a grid of learning rates (and lmbda, batch sizes) on MNIST",
        description=_SWEEP_DESCRIPTION,
        epilog=_SWEEP_EPILOG,
    )
    group = parser.add_argument_group("sweep grid")
    group.add_argument(
        "--eta",
        type=_positive_float,
        nargs="+",
        default=list(DEFAULT_ETA),
        metavar="ETA",
        help="learning rates, each > 0",
    )
    group.add_argument(
        "--lmbda",
        type=_non_negative_float,
        nargs="+",
        default=list(DEFAULT_LMBDA),
        metavar="LMBDA",
        help="L2 regularisation parameters, each >= 0",
    )
    group.add_argument(
        "--batch-size",
        type=_positive_int,
        nargs="+",
        default=list(DEFAULT_BATCH_SIZE),
        metavar="M",
        help="mini-batch sizes m (one group of models per size, trained one after another)",
    )
    group.add_argument("--epochs", type=_positive_int, default=30, help="epochs to train")
    _add_network_options(parser)
    _add_data_options(parser)
    group = parser.add_argument_group("measurements and output")
    group.add_argument(
        "--monitor",
        choices=MONITORS,
        nargs="+",
        default=list(DEFAULT_MONITOR),
        metavar="NAME",
        help=(
            f"quantities measured after every epoch, any of: {', '.join(MONITORS)} "
            "(evaluation = the validation set)"
        ),
    )
    group.add_argument(
        "--plot",
        metavar="FILE",
        help="save the curves as a figure (.png, .svg or .pdf)",
    )
    group.add_argument(
        "--out",
        metavar="FILE",
        help=(
            "save the results: .npz or .json (everything: curves, settings, weights; "
            "'sgdfast plot' and SweepResult.load read them back), or .csv (the curves, one "
            "row per model and epoch)"
        ),
    )
    group.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar on stderr (shown only when stderr is a terminal)",
    )
    _add_common_options(parser)
    parser.set_defaults(run=_run_sweep, prog=parser.prog)


def _check_output(path: str | None, suffixes: Sequence[str], option: str, prog: str) -> None:
    """Before training: the suffix is one we write, and the folder exists."""
    if path is None:
        return
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        raise UsageError(
            f"argument {option}: unknown file type {suffix or '(no suffix)'!r} of {path!r}; "
            f"expected one of {', '.join(suffixes)}",
            prog,
        )
    folder = Path(path).parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")


def _run_sweep(args: argparse.Namespace) -> int:
    _check_output(args.out, SAVE_SUFFIXES, "--out", args.prog)
    _check_output(args.plot, PLOT_SUFFIXES, "--plot", args.prog)
    monitor = list(dict.fromkeys(args.monitor))
    data, train, source = _load_data(args)
    evaluation = data.validation if any(m.startswith("evaluation") for m in monitor) else None
    sizes = args.sizes if args.sizes is not None else _default_sizes(train, evaluation)
    start = time.perf_counter()
    with _usage_errors(args.prog):
        result = sweep(
            train,
            eta=args.eta,
            lmbda=args.lmbda,
            epochs=args.epochs,
            batch_size=args.batch_size,
            progress=not args.quiet,
            sizes=sizes,
            cost=args.cost,
            init=args.init,
            evaluation_data=evaluation,
            monitor=monitor,
            seed=args.seed,
            dtype=args.dtype,
            independent_init=args.independent_init,
            n_threads=args.n_threads,
        )
    elapsed = time.perf_counter() - start
    n_eval = 0 if evaluation is None else len(evaluation)
    result.config.update(
        data=None if source is None else str(source),
        train_size=len(train),
        validation_size=args.validation_size,
        evaluation_size=n_eval,
        n_threads=args.n_threads,
    )
    _print_sweep_report(result, len(train), n_eval, source, elapsed)
    if args.out is not None:
        with _writing(args.out):
            result.save(args.out)
        print(f"results: {args.out}")
    if args.plot is not None:
        _save_plot(result, args.plot)
        print(f"plot: {args.plot}")
    return 0


def _print_sweep_report(
    result: SweepResult, n_train: int, n_eval: int, source: Path | None, elapsed: float
) -> None:
    """What was trained, the table of models, and the speed, on stdout."""
    c = result.config
    models, epochs = _plural(result.n_models, "model"), _plural(result.epochs, "epoch")
    evaluation = f"; evaluation on {n_eval} validation images" if n_eval else ""
    print(
        f"{models} of {list(result.sizes)} ({c['cost']} cost, {c['init']} init, {c['dtype']}, "
        f"seed {c['seed']}), {epochs} on {n_train} training images from {source}{evaluation}"
    )
    for line in result._table_lines():
        print(line)
    rate = result.n_models * n_train * result.epochs / max(elapsed, 1e-9)
    print(f"{models} x {epochs} x {n_train} images in {elapsed:.2f} s: {rate:,.0f} model-samples/s")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@contextlib.contextmanager
def _writing(path: str) -> Iterator[None]:
    """On an I/O error while writing ``path``, a message that names the file."""
    try:
        yield
    except OSError as e:
        raise OSError(f"cannot write {path}: {e.strerror or e}") from e


def _save_plot(result: SweepResult, path: str, monitors: Sequence[str] | None = None) -> None:
    """One panel per monitored quantity (default: all, the training cost first), each a
    curve per model."""
    # An Agg canvas of its own rather than pyplot: works without a display, and leaves the
    # process's backend and open figures alone when main() runs inside a notebook.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import plot_cost

    if monitors is None:
        monitored = list(result.config.get("monitor", result.monitored))
        first = "training_cost" if "training_cost" in monitored else monitored[0]
        monitors = [first] + [name for name in MONITORS if name in monitored and name != first]
    ncols = min(len(monitors), 2)
    nrows = -(-len(monitors) // ncols)
    fig = Figure(figsize=(6.5 * ncols, 4.5 * nrows), constrained_layout=True)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, name in zip(axes.flat, monitors):
        plot_cost(result, monitor=name, ax=ax)
    for ax in axes.flat[len(monitors) :]:
        ax.set_visible(False)
    with _writing(path):
        fig.savefig(path, format=Path(path).suffix.lower()[1:])


# --------------------------------------------------------------------------------------------
# sgdfast threshold
# --------------------------------------------------------------------------------------------


_THRESHOLD_DESCRIPTION = """\
Find the learning-rate threshold on MNIST as chapter 3 of Nielsen's book does:
the largest eta at which the training cost still decreases during the first few
epochs. Starting from --start, eta is multiplied (or divided) by --factor until
the threshold is bracketed, then refined inside the bracket in one fused run of
many learning rates. The recommended eta is half the threshold, as in the book.
With no options: the book's [784, 30, 10] network, lmbda = 5, mini-batches of 10.
"""

_THRESHOLD_EPILOG = """\
examples:
  sgdfast threshold
      the book's search: it lands near eta = 0.5, recommending about 0.25
  sgdfast threshold --train-size 5000 --lmbda 0 --plot search.png
      a quicker search on 5,000 images without regularisation, and its figure
"""


def _add_threshold(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "threshold",
        help="find the largest eta at which the training cost still decreases",
        description=_THRESHOLD_DESCRIPTION,
        epilog=_THRESHOLD_EPILOG,
    )
    group = parser.add_argument_group("search")
    group.add_argument(
        "--start", type=_positive_float, default=0.01, metavar="ETA", help="first eta tried"
    )
    group.add_argument(
        "--factor",
        type=_positive_float,
        default=10.0,
        help="eta is multiplied or divided by this until the threshold is bracketed (> 1)",
    )
    group.add_argument(
        "--epochs",
        type=_positive_float,
        default=1.0,
        help="training per probe, in epochs (may be a fraction)",
    )
    group.add_argument(
        "--points",
        type=_positive_int,
        default=20,
        metavar="N",
        help="training-cost measurements per probe, evenly spaced over its training",
    )
    group.add_argument(
        "--cost-sample",
        type=_positive_int,
        default=2000,
        metavar="N",
        help="training images the cost is measured on (a fixed random subset)",
    )
    group.add_argument(
        "--resolution",
        type=_positive_float,
        default=0.05,
        help="largest relative step between the learning rates of the refinement",
    )
    group.add_argument(
        "--safety-factor",
        type=_positive_float,
        default=2.0,
        metavar="F",
        help="the recommended eta is the threshold divided by F (the book: 2)",
    )
    group.add_argument(
        "--plot",
        metavar="FILE",
        help="save the search as a figure (.png, .svg or .pdf): the probes' cost curves, and "
        "each probe's class against eta with the bracket, threshold and recommendation",
    )
    group = parser.add_argument_group("the network being tuned")
    group.add_argument(
        "--lmbda", type=_non_negative_float, default=5.0, help="L2 regularisation parameter"
    )
    group.add_argument(
        "--batch-size", type=_positive_int, default=10, metavar="M", help="mini-batch size m"
    )
    _add_network_options(parser)
    _add_data_options(parser)
    _add_common_options(parser)
    parser.set_defaults(run=_run_threshold, prog=parser.prog)


def _run_threshold(args: argparse.Namespace) -> int:
    from .threshold import ThresholdNotFoundError, find_threshold

    if args.factor <= 1:
        raise UsageError(f"argument --factor: must be > 1, got {args.factor:g}", args.prog)
    _check_output(args.plot, PLOT_SUFFIXES, "--plot", args.prog)
    _, train, source = _load_data(args)
    sizes = args.sizes if args.sizes is not None else _default_sizes(train, None)
    print(f"{len(train)} training images from {source}")
    sys.stdout.flush()
    try:
        with _usage_errors(args.prog):
            search = find_threshold(
                train,
                start=args.start,
                factor=args.factor,
                lmbda=args.lmbda,
                batch_size=args.batch_size,
                epochs=args.epochs,
                points=args.points,
                cost_sample=args.cost_sample,
                resolution=args.resolution,
                safety_factor=args.safety_factor,
                seed=args.seed,
                sizes=sizes,
                cost=args.cost,
                init=args.init,
                dtype=args.dtype,
                independent_init=args.independent_init,
                n_threads=args.n_threads,
            )
    except ThresholdNotFoundError as e:
        _report(f"no threshold found: {e}")
        return 1
    print(search)
    if args.plot is not None:
        _save_threshold_plot(search, args.plot)
        print(f"plot: {args.plot}")
    return 0


def _save_threshold_plot(search: ThresholdSearch, path: str) -> None:
    """The probes' curves beside the threshold plot (see :func:`_save_plot` for the canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import plot_probes, plot_threshold

    fig = Figure(figsize=(13, 4.5), constrained_layout=True)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    plot_probes(search, ax=left)
    plot_threshold(search, ax=right)
    with _writing(path):
        fig.savefig(path, format=Path(path).suffix.lower()[1:])


# --------------------------------------------------------------------------------------------
# sgdfast plot
# --------------------------------------------------------------------------------------------


_PLOT_DESCRIPTION = """\
Plot a result saved by 'sgdfast sweep --out' (or SweepResult.save): one panel
per monitored quantity, one curve per model.
"""

_PLOT_EPILOG = """\
examples:
  sgdfast plot result.npz
      writes result.png beside it
  sgdfast plot curves.csv --monitor evaluation_accuracy --out accuracy.svg
"""


def _add_plot(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="plot a saved result (.npz, .json or .csv)",
        description=_PLOT_DESCRIPTION,
        epilog=_PLOT_EPILOG,
    )
    parser.add_argument("result", metavar="RESULT", help="a result file: .npz, .json or .csv")
    parser.add_argument(
        "-o",
        "--out",
        metavar="FILE",
        help="the figure: .png, .svg or .pdf (default: RESULT with the suffix .png)",
    )
    parser.add_argument(
        "--monitor",
        choices=MONITORS,
        nargs="+",
        metavar="NAME",
        help=(
            f"the quantities to plot, any of: {', '.join(MONITORS)} (default: every one "
            "the result holds, the training cost first)"
        ),
    )
    _add_common_options(parser)
    parser.set_defaults(run=_run_plot, prog=parser.prog)


def _run_plot(args: argparse.Namespace) -> int:
    _check_output(args.result, SAVE_SUFFIXES, "RESULT", args.prog)
    out = args.out if args.out is not None else str(Path(args.result).with_suffix(".png"))
    _check_output(out, PLOT_SUFFIXES, "--out", args.prog)
    try:
        result = SweepResult.load(args.result)
    except OSError as e:
        raise OSError(f"cannot read {args.result}: {e.strerror or e}") from e
    monitors = None
    if args.monitor is not None:
        monitors = list(dict.fromkeys(args.monitor))
        missing = [name for name in monitors if name not in result.monitored]
        if missing:
            raise UsageError(
                f"argument --monitor: {args.result} holds no {', '.join(missing)} (it has: "
                f"{', '.join(result.monitored) or 'nothing'})",
                args.prog,
            )
    elif not result.monitored:
        raise DataError(f"{args.result}: the result holds no curves to plot")
    _save_plot(result, out, monitors)
    print(f"plot: {out}")
    return 0


# --------------------------------------------------------------------------------------------
# sgdfast bench
# --------------------------------------------------------------------------------------------


_BENCH_DESCRIPTION = """\
Measure the engine's throughput on this machine against the numpy reference,
in one run: the book's workload ([784, 30, 10], m = 10, lmbda = 5), one epoch
over the first N MNIST training images (random pixels if MNIST is not found),
for several numbers K of models trained at once, on one thread and on all.
GFLOP/s counts 6 * sum(n_in * n_out) per model-sample; '% peak' compares with
numpy's float32 matrix product measured in the same run. Then, without --short,
time per model-sample as K, n and epochs double; and the peak memory of a
fresh process that loads the data and trains the largest K for one epoch.
"""

_BENCH_EPILOG = """\
examples:
  sgdfast bench --short           a quick look (about half a minute)
  sgdfast bench --models 64 --dtype float32
  sgdfast bench --models 1 4 16 64 256 --plot throughput.png
"""


def _add_bench(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure training throughput on this machine",
        description=_BENCH_DESCRIPTION,
        epilog=_BENCH_EPILOG,
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="a quick run: 2,000 images, K = 1 and 8, one repeat, no scaling table",
    )
    parser.add_argument(
        "--samples",
        type=_positive_int,
        metavar="N",
        help="training images per epoch (default: 10000; 2000 with --short)",
    )
    parser.add_argument(
        "--models",
        type=_positive_int,
        nargs="+",
        metavar="K",
        help="numbers of models trained at once (default: 1 8 64 256; 1 8 with --short)",
    )
    parser.add_argument(
        "--dtype",
        choices=_bench.DTYPES,
        nargs="+",
        default=list(_bench.DTYPES),
        metavar="DTYPE",
        help="floating-point types to measure",
    )
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        metavar="R",
        help="each figure is the median of R runs (default: 3; 1 with --short)",
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        help=f"MNIST as for 'sgdfast sweep' (default: ${ENV_VAR}, else the cache folder)",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="also plot throughput against K (.png, .svg or .pdf)",
    )
    _add_common_options(parser)
    parser.set_defaults(run=_run_bench, prog=parser.prog)


def _run_bench(args: argparse.Namespace) -> int:
    _check_output(args.plot, PLOT_SUFFIXES, "--plot", args.prog)
    n = args.samples or (2_000 if args.short else 10_000)
    try:
        # The first N training images, whatever the validation split.
        images = load_mnist(args.data, download=False, validation_size=1).train
        where = f"MNIST from {find_mnist(args.data)}"
    except DataNotFoundError:
        if args.data is not None:
            raise
        images = _bench.synthetic_data(n)
        where = "random pixels (MNIST not found)"
    if n > len(images):
        raise UsageError(
            f"argument --samples: {n} is more than the {len(images)} training images", args.prog
        )
    print(f"data: {where}")
    _bench.report(
        images[:n],
        models=args.models or ([1, 8] if args.short else [1, 8, 64, 256]),
        dtypes=list(dict.fromkeys(args.dtype)),
        repeats=args.repeats or (1 if args.short else 3),
        sgemm_n=1024 if args.short else 4096,
        scaling=not args.short,
        memory=True,
        data_path=args.data,
        plot=args.plot,
        write=lambda line: print(line, flush=True),
    )
    return 0


# --------------------------------------------------------------------------------------------
# sgdfast data
# --------------------------------------------------------------------------------------------


_DATA_DESCRIPTION = f"""\
Show where MNIST is found: the --data PATH if given, else the folder (or
mnist.pkl.gz) named by ${ENV_VAR}, else the per-user cache folder. Exit
status 1 if it is not found, with what to put where. --download fetches the
four files into the cache folder (when neither --data nor ${ENV_VAR} is
given); --verify checks each file against the published size and SHA-256.
"""

_DATA_EPILOG = f"""\
examples:
  sgdfast data --download
      fetch MNIST (about 11 MB) into the cache folder
  {ENV_VAR}=~/mnist sgdfast data --verify
      check the copy in ~/mnist
"""


def _add_data(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data",
        help="show where MNIST is found; download or verify it",
        description=_DATA_DESCRIPTION,
        epilog=_DATA_EPILOG,
    )
    _add_data_options(parser, training=False)
    group = parser.add_argument_group("actions")
    group.add_argument(
        "--download",
        action="store_true",
        help="download the missing files into the cache folder (and check they load)",
    )
    group.add_argument(
        "--verify",
        action="store_true",
        help="check each file's size and SHA-256 against the original MNIST (exit 1 if any "
        "differs)",
    )
    _add_common_options(parser)
    parser.set_defaults(run=_run_data, prog=parser.prog)


def _run_data(args: argparse.Namespace) -> int:
    if args.download:
        load_mnist(args.data, download=True, validation_size=1)
    where = find_mnist(args.data)
    env = os.environ.get(ENV_VAR)
    print(f"MNIST:         {'not found' if where is None else where}")
    print(f"cache folder:  {cache_dir()}")
    print(f"{ENV_VAR}:  {'not set' if not env else repr(env)}")
    sys.stdout.flush()
    if where is None:
        # Not there, so this raises DataNotFoundError saying what to put where.
        load_mnist(args.data, download=False, validation_size=1)
        return 1
    if not args.verify:
        return 0
    if where.is_file():
        raise DataError(
            f"{where}: cannot verify a pickle file; checksums are published for the four "
            f"IDX files only"
        )
    status = verify_mnist(where)
    print(f"checksums in {where}:")
    width = max(len(name) for name in status)
    for name, ok in status.items():
        print(f"  {name.ljust(width)}  {'ok' if ok else 'MISMATCH'}")
    bad = [name for name, ok in status.items() if not ok]
    if bad:
        sys.stdout.flush()
        print(
            f"{PROG}: {len(bad)} of {len(status)} files differ from the published MNIST "
            f"files: {', '.join(bad)}",
            file=sys.stderr,
        )
        return 1
    return 0


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


_COMMANDS = (_add_sweep, _add_threshold, _add_plot, _add_bench, _add_data)

_MAIN_DESCRIPTION = """\
Fast learning-rate sweeps for small sigmoid networks on MNIST (Nielsen's book,
chapter 3): many mini-batch SGD runs of one network at once, on every core.
"""

_MAIN_EPILOG = """\
examples:
  sgdfast data --download          fetch MNIST into the cache folder
  sgdfast sweep --plot cost.png    chapter 3's learning-rate experiment
  sgdfast sweep --out result.npz   the same, results saved...
  sgdfast plot result.npz          ...and plotted later (result.png)
  sgdfast threshold                find the eta at which training stops converging
  sgdfast bench --short            how fast this machine trains
  sgdfast sweep --help             every option of a subcommand
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``sgdfast`` command, with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        Its ``parse_args`` raises :class:`UsageError` on bad usage instead of exiting.
        Parsed arguments carry ``run(args) -> int``, the subcommand to call, and ``prog``.
    """
    parser = _Parser(
        prog=PROG,
        description=_MAIN_DESCRIPTION,
        epilog=_MAIN_EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    subparsers = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    for add in _COMMANDS:
        add(_Subparsers(subparsers))
    return parser


class _Subparsers:
    """``add_parser`` with the house formatter and parser class for every subcommand."""

    def __init__(self, action: Any) -> None:
        self.action = action

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return self.action.add_parser(name, **kwargs)


_NOT_FOUND_HINT = (
    "from the shell: 'sgdfast data --download' fetches MNIST into the cache folder; "
    "--data PATH points at a copy"
)


def _report(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sgdfast`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 failure (data not found, I/O error, ...), 2 bad usage.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        _report(f"error: {e} (see '{e.prog} --help')")
        return 2
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else 0
    debug = getattr(args, "debug", False)
    try:
        return int(args.run(args))
    except UsageError as e:
        if debug:
            traceback.print_exc()
        _report(f"error: {e} (see '{e.prog} --help')")
        return 2
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        _report("interrupted")
        return 130
    except Exception as e:
        if debug:
            traceback.print_exc()
        if isinstance(e, (OSError, DataError)):
            # DataNotFoundError's message lists the places searched, over several lines.
            _report(str(e))
            if isinstance(e, DataNotFoundError):
                _report(_NOT_FOUND_HINT)
        else:
            _report(f"unexpected {type(e).__name__}: {e} (run with --debug for the traceback)")
        return 1
