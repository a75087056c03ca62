"""Sweeps: many models of one network trained at once, epoch by epoch."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Union

import numpy as np

from . import _seeding
from . import _validation as check
from ._core import Engine
from ._result import MONITORS, SweepResult
from .data import Dataset, as_dataset
from .reference import n_parameters
from .schedules import Schedule, ScheduleState, as_schedule

DataLike = Union[Dataset, "tuple[Any, Any]"]

COSTS = ("cross_entropy", "quadratic")
INITS = ("default", "large")
BACKENDS = ("rust", "numpy")


def _estimate_bytes(n_models: int, sizes: Sequence[int], n_samples: int, itemsize: int) -> int:
    """Memory a trainer adds to its data set's: a converted, padded copy of the data unless
    the engine reads the data set's float32 rows in place (their length a multiple of 16, as
    MNIST's 784), the parameters (engine and initial copy), and a little workspace."""
    padded = -(-sizes[0] // 16) * 16
    in_place = itemsize == 4 and padded == sizes[0]
    data_copy = 0 if in_place else n_samples * padded * itemsize
    return data_copy + 2 * n_models * n_parameters(sizes) * itemsize + 64 * 2**20


class Trainer:
    """Train many models of one network on one data set, epoch by epoch.

    Every model sees the same mini-batches in the same order; models differ in their
    learning rate ``eta`` and L2 parameter ``lmbda`` (the grid ``eta × lmbda``) and, with
    ``independent_init=True``, in their initial weights. The Rust engine trains them all at
    once on every core; results are bit-identical whatever ``n_threads``.

    Parameters
    ----------
    training_data : Dataset or (X, y)
        X: (n, n_features) floats; y: integer class labels.
    eta, lmbda : float or sequence of float
        Learning rates (> 0) and L2 regularisation parameters (>= 0).
    batch_size : int
        Mini-batch size m. The last batch of an epoch holds the ``n mod m`` left-over
        samples and is a step of its own, scaled by its own size (as network2.py).
    sizes : sequence of int, optional
        Layer sizes, input first. Default ``(n_features, 30, n_classes)``.
    cost : {"cross_entropy", "quadratic"}
    init : {"default", "large"}
        Weights ~ N(0, 1/n_in) ("default") or N(0, 1) ("large"); biases ~ N(0, 1).
    evaluation_data : Dataset or (X, y), optional
        Needed for the evaluation monitors.
    monitor : iterable of str
        Any of "training_cost", "training_accuracy", "evaluation_cost",
        "evaluation_accuracy", measured after every epoch.
    seed : int
        Seeds the initial weights and every epoch's shuffle.
    dtype : {"float32", "float64"}
    independent_init : bool
        Draw each model's initial weights separately instead of one draw for all.
    n_threads : int, optional
        Threads to train on; default: rayon's pool (all cores, or ``RAYON_NUM_THREADS``).
    group_size : int, optional
        Models fused per work unit; default sized to the L2 cache. Results never depend on it.
    backend : {"rust", "numpy"}
        "numpy" runs the pure-numpy reference (:mod:`sgdfast.reference`) instead.
    schedule : Schedule or mapping, optional
        How each model's η changes between epochs (:mod:`sgdfast.schedules`): ``Steps``
        (a mapping ``{epoch: factor}`` is short for ``Steps(mapping)``) or
        ``ReduceOnPlateau``. Models whose schedule ends stop training.
    early_stopping : int, optional
        Stop a model once its validation accuracy has not improved for this many epochs (the
        book: 10, later 20 or 50), and make :meth:`result`'s weights for it those of its
        best epoch.
    monitor_subsample : int, optional
        Measure the training monitors on a fixed random subset of this many training
        samples (drawn from ``seed``) instead of all of them: cheap, frequent measurements.
        The L2 term of the training cost still divides by n = len(training_data).

    Schedules and early stopping read the validation accuracy of every epoch: they need
    ``evaluation_data`` and add "evaluation_accuracy" to ``monitor``. Results then also carry
    ``best_epoch``, ``stopped_epoch`` and ``eta_per_epoch``; a stopped model's curves are
    NaN after its last epoch.

    With ``dtype="float32"`` and a multiple of 16 features (MNIST's 784), the Rust engine
    reads the data sets' images in place every epoch, without a copy: a
    :class:`~sgdfast.Dataset`'s arrays are read-only, but an array it shares with your own
    code must not be changed while the trainer lives. Otherwise the engine keeps a
    converted, padded copy.

    Attributes
    ----------
    eta, eta0 : ndarray, shape (K,)
        Each model's current and initial learning rate.
    epoch : int
        Epochs trained so far.
    history : dict of str to list of ndarray
        Every monitor's values, one array per epoch.
    diverged_epoch, stopped_epoch, best_epoch : ndarray of int, shape (K,)
        The epoch a model diverged, stopped (early stopping or its schedule's end) and had
        its best validation accuracy (``best_accuracy``); -1 for none.

    Examples
    --------
    The book's "no improvement in 10 epochs" rule, with η halved on every plateau:

    >>> import numpy as np, sgdfast
    >>> from sgdfast.schedules import ReduceOnPlateau
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((300, 8)); y = (X[:, 0] > 0.5).astype(int)
    >>> trainer = sgdfast.Trainer((X[:200], y[:200]), eta=[0.5, 3.0], sizes=(8, 4, 2),
    ...                           evaluation_data=(X[200:], y[200:]), early_stopping=10,
    ...                           schedule=ReduceOnPlateau(factor=2, patience=3))
    >>> res = trainer.run(40)
    >>> res.best_epoch.shape, res.evaluation_accuracy.shape
    ((2,), (2, 40))
    """

    def __init__(
        self,
        training_data: DataLike,
        *,
        eta: float | Sequence[float],
        lmbda: float | Sequence[float] = 0.0,
        batch_size: int = 10,
        sizes: Sequence[int] | None = None,
        cost: str = "cross_entropy",
        init: str = "default",
        evaluation_data: DataLike | None = None,
        monitor: Iterable[str] = ("training_cost",),
        seed: int = 0,
        dtype: str | np.dtype | type = "float32",
        independent_init: bool = False,
        n_threads: int | None = None,
        group_size: int | None = None,
        backend: str = "rust",
        schedule: Schedule | Mapping[int, float] | None = None,
        early_stopping: int | None = None,
        monitor_subsample: int | None = None,
    ) -> None:
        train = as_dataset(training_data, name="training_data")
        evaluation = (
            None if evaluation_data is None else as_dataset(evaluation_data, name="evaluation_data")
        )
        etas = check.real_grid(eta, "eta", strictly_positive=True)
        lmbdas = check.real_grid(lmbda, "lmbda", strictly_positive=False)
        self.batch_size = check.positive_int(batch_size, "batch_size")
        if self.batch_size > len(train):
            raise ValueError(
                f"batch_size: {self.batch_size} is larger than the training set ({len(train)})"
            )
        n_classes = (
            train.n_classes if evaluation is None else max(train.n_classes, evaluation.n_classes)
        )
        self.sizes = check.sizes(
            (train.n_features, 30, n_classes) if sizes is None else sizes,
            train.n_features,
            n_classes,
        )
        if evaluation is not None and evaluation.n_features != train.n_features:
            raise ValueError(
                f"evaluation_data: has {evaluation.n_features} features, training_data "
                f"has {train.n_features}"
            )
        self.cost = check.choice(cost, "cost", COSTS)
        self.init = check.choice(init, "init", INITS)
        self.schedule = as_schedule(schedule)
        self.early_stopping = check.optional_positive_int(early_stopping, "early_stopping")
        self.monitor = self._check_monitor(monitor, evaluation is not None)
        if self._needs_accuracy:
            self._require_validation(evaluation is not None)
        self.seed = check.positive_int(seed, "seed", minimum=0)
        self.dtype = check.dtype(dtype)
        self.independent_init = bool(independent_init)
        n_threads = check.optional_positive_int(n_threads, "n_threads")
        group_size = check.optional_positive_int(group_size, "group_size")
        self.backend = check.choice(backend, "backend", BACKENDS)

        grid = list(itertools.product(etas, lmbdas))
        self.n_models = len(grid)
        self._check_memory(len(train) + (0 if evaluation is None else len(evaluation)))
        self.eta = np.array([g[0] for g in grid])
        self.eta0 = self.eta.copy()
        self.lmbda = np.array([g[1] for g in grid])
        self._n_train = len(train)
        self._n_eval = 0 if evaluation is None else len(evaluation)
        self._n_monitor = self._n_train
        if monitor_subsample is not None:
            self._n_monitor = check.positive_int(monitor_subsample, "monitor_subsample")
            if self._n_monitor > self._n_train:
                raise ValueError(
                    f"monitor_subsample: {self._n_monitor} is larger than the training set "
                    f"({self._n_train})"
                )

        weights, biases = _seeding.initial_params(
            self.sizes,
            self.n_models,
            seed=self.seed,
            init=self.init,
            independent=self.independent_init,
            dtype=self.dtype,
        )
        engine_cls: Callable[..., Any]
        if self.backend == "rust":
            engine_cls = Engine
        else:
            from .reference import NumpyEngine

            engine_cls = NumpyEngine
        self._engine = engine_cls(
            list(self.sizes),
            self.cost,
            self.batch_size,
            weights,
            biases,
            self.eta.tolist(),
            self.lmbda.tolist(),
            np.ascontiguousarray(train.X, dtype=self.dtype),
            train.y,
            n_threads,
            group_size,
        )
        self._train_index = 0
        if self._n_monitor < self._n_train:
            subset = _seeding.subsample(self.seed, self._n_train, self._n_monitor)
            self._train_index = self._engine.add_dataset(
                np.ascontiguousarray(train.X[subset], dtype=self.dtype), train.y[subset]
            )
        self._eval_index = None
        if evaluation is not None:
            self._eval_index = self._engine.add_dataset(
                np.ascontiguousarray(evaluation.X, dtype=self.dtype), evaluation.y
            )
        self.epoch = 0
        self.history: dict[str, list[np.ndarray]] = {name: [] for name in self.monitor}
        self.diverged_epoch = np.full(self.n_models, -1, dtype=np.int64)
        self.stopped_epoch = np.full(self.n_models, -1, dtype=np.int64)
        self.best_epoch = np.full(self.n_models, -1, dtype=np.int64)
        self.best_accuracy = np.full(self.n_models, -np.inf)
        self._eta_history: list[np.ndarray] = []
        self._best_params: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self._schedule_state: ScheduleState | None = None
        if self.schedule is not None:
            self._schedule_state = self.schedule.start(self.eta0)
            self._apply_eta(self._schedule_state.eta)

    @staticmethod
    def _check_monitor(monitor: Iterable[str], have_evaluation: bool) -> tuple[str, ...]:
        if isinstance(monitor, str):
            monitor = (monitor,)
        names = tuple(dict.fromkeys(monitor))
        for name in names:
            check.choice(name, "monitor", MONITORS)
            if name.startswith("evaluation") and not have_evaluation:
                raise ValueError(f"monitor: {name!r} needs evaluation_data")
        return names

    @property
    def _needs_accuracy(self) -> bool:
        return self.early_stopping is not None or (
            self.schedule is not None and self.schedule.needs_accuracy
        )

    def _require_validation(self, have_evaluation: bool) -> None:
        """Schedules and early stopping decide on the validation accuracy of every epoch."""
        name = "early_stopping" if self.early_stopping is not None else "schedule"
        if not have_evaluation:
            raise ValueError(f"{name}: needs evaluation_data (the validation accuracy decides)")
        if "evaluation_accuracy" not in self.monitor:
            self.monitor = (*self.monitor, "evaluation_accuracy")

    def _check_memory(self, n_samples: int) -> None:
        need = _estimate_bytes(self.n_models, self.sizes, n_samples, self.dtype.itemsize)
        limit = check.memory_limit_bytes()
        if need > limit:
            raise ValueError(
                f"eta/lmbda: a sweep of {self.n_models} models of {list(self.sizes)} "
                f"({self.dtype}) needs about {need / 2**30:.1f} GiB, more than the "
                f"{limit / 2**30:.1f} GiB this machine can spare; sweep fewer models at a time"
            )

    @property
    def active(self) -> np.ndarray:
        """Models still training (not diverged, not stopped)."""
        return np.asarray(self._engine.active, dtype=bool)

    @property
    def eta_per_epoch(self) -> np.ndarray:
        """The learning rate of every model in every epoch so far, shape (K, epochs); NaN
        where a model no longer trained."""
        rows = self._eta_history
        return np.stack(rows, axis=1) if rows else np.empty((self.n_models, 0))

    def set_eta(self, eta: Sequence[float] | np.ndarray) -> None:
        """Set every model's learning rate for the following epochs (for schedules)."""
        values = check.real_grid(list(np.asarray(eta, dtype=float)), "eta", strictly_positive=True)
        if len(values) != self.n_models:
            raise ValueError(f"eta: expected {self.n_models} values, got {len(values)}")
        self._apply_eta(np.array(values))

    def _apply_eta(self, eta: np.ndarray) -> None:
        self._engine.set_eta(eta.tolist())
        self.eta = eta.copy()

    def run_epoch(self, order: Sequence[int] | np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Train one epoch, then measure the monitors. Returns this epoch's values.

        Parameters
        ----------
        order : array of int, optional
            The training samples this epoch visits, in order: any indices into the training
            set (a fraction of an epoch, repeats, ...), one step per ``batch_size`` of them.
            Default: the seeded shuffle of the whole training set for this epoch. Weight
            decay always divides by n = len(training_data).
        """
        epoch = self.epoch
        running = self.active
        if running.any():
            if order is None:
                order = _seeding.epoch_order(self.seed, epoch, self._n_train)
            self._engine.train_epoch(check.sample_indices(order, "order", self._n_train))
            values = self._measure()
        else:  # everything stopped: nothing to train or measure
            values = {name: np.full(self.n_models, np.nan) for name in self.monitor}
        self._eta_history.append(np.where(running, self.eta, np.nan))
        self._mark_diverged(values, epoch)
        for name, v in values.items():
            v[~running | (self.diverged_epoch >= 0)] = np.nan
            self.history[name].append(v)
        if "evaluation_accuracy" in values:
            self._track_best(values["evaluation_accuracy"], epoch)
        self._stop(self._finished(values.get("evaluation_accuracy"), epoch), epoch)
        self.epoch += 1
        return values

    def _mark_diverged(self, values: dict[str, np.ndarray], epoch: int) -> None:
        """Flag and freeze the models whose parameters or cost became NaN/inf."""
        finite = np.asarray(self._engine.finite(), dtype=bool)
        for name, v in values.items():
            if name.endswith("cost"):
                finite &= np.isfinite(v)
        newly = self.active & (self.diverged_epoch < 0) & ~finite
        self.diverged_epoch[newly] = epoch
        if newly.any():
            self._engine.set_active((self.active & ~newly).tolist())

    def _track_best(self, accuracy: np.ndarray, epoch: int) -> None:
        """Remember each model's best validation accuracy, its epoch and (with early stopping)
        its parameters."""
        improved = accuracy > self.best_accuracy  # NaN: a stopped model never improves
        if not improved.any():
            return
        self.best_accuracy[improved] = accuracy[improved]
        self.best_epoch[improved] = epoch
        if self.early_stopping is not None:
            weights, biases = self._engine.params()
            if self._best_params is None:
                self._best_params = ([np.array(w) for w in weights], [np.array(b) for b in biases])
            for best, now in zip(self._best_params[0] + self._best_params[1], weights + biases):
                best[improved] = now[improved]

    def _finished(self, accuracy: np.ndarray | None, epoch: int) -> np.ndarray:
        """Models that early stopping or their schedule end after this epoch; updates η."""
        finished = np.zeros(self.n_models, dtype=bool)
        if self.early_stopping is not None:
            finished |= epoch - self.best_epoch >= self.early_stopping
        state = self._schedule_state
        if state is not None:
            state.update(epoch, accuracy)
            finished |= state.finished
            if not np.array_equal(state.eta, self.eta):
                self._apply_eta(state.eta)
        return finished

    def _stop(self, finished: np.ndarray, epoch: int) -> None:
        """Freeze the still-training models in ``finished``; record their last epoch."""
        newly = finished & self.active
        if newly.any():
            self.stopped_epoch[newly] = epoch
            self._engine.set_active((self.active & ~newly).tolist())

    def measure(self) -> dict[str, np.ndarray]:
        """The monitors now, without training or recording them (e.g. before the first
        epoch); NaN for models no longer training."""
        values = self._measure()
        for v in values.values():
            v[~self.active] = np.nan
        return values

    def _measure(self) -> dict[str, np.ndarray]:
        values: dict[str, np.ndarray] = {}
        sq_norms = None
        # The L2 term divides by the size of the data set measured, as network2's total_cost;
        # a training subsample still stands for the whole training set.
        for prefix, index, n, n_l2 in (
            ("training", self._train_index, self._n_monitor, self._n_train),
            ("evaluation", self._eval_index, self._n_eval, self._n_eval),
        ):
            wanted = [name for name in self.monitor if name.startswith(prefix)]
            if not wanted or index is None:  # (evaluation monitors imply evaluation data)
                continue
            cost_sum, correct = self._engine.evaluate(index)
            if f"{prefix}_cost" in wanted:
                if sq_norms is None:
                    sq_norms = np.asarray(self._engine.weight_sq_norms())
                with np.errstate(all="ignore"):
                    values[f"{prefix}_cost"] = (
                        np.asarray(cost_sum) / n + 0.5 * (self.lmbda / n_l2) * sq_norms
                    )
            if f"{prefix}_accuracy" in wanted:
                values[f"{prefix}_accuracy"] = np.asarray(correct, dtype=np.float64) / n
        return values

    def run(self, epochs: int, callback: Callable[[Trainer], object] | None = None) -> SweepResult:
        """Train ``epochs`` more epochs, calling ``callback(self)`` after each; return the
        result so far."""
        epochs = check.positive_int(epochs, "epochs")
        for _ in range(epochs):
            self.run_epoch()
            if callback is not None:
                callback(self)
        return self.result()

    def result(self) -> SweepResult:
        """Everything measured so far, and the current parameters (with early stopping: each
        model's best epoch's). ``eta`` is each model's initial learning rate."""
        weights, biases = self._best_or_current_params()

        def monitored(name: str) -> np.ndarray | None:
            if name not in self.monitor:
                return None
            rows = self.history[name]
            return np.stack(rows, axis=1) if rows else np.empty((self.n_models, 0))

        result = SweepResult(
            eta=self.eta0.copy(),
            lmbda=self.lmbda.copy(),
            batch_size=np.full(self.n_models, self.batch_size),
            sizes=self.sizes,
            epochs=self.epoch,
            training_cost=monitored("training_cost"),
            training_accuracy=monitored("training_accuracy"),
            evaluation_cost=monitored("evaluation_cost"),
            evaluation_accuracy=monitored("evaluation_accuracy"),
            diverged_epoch=self.diverged_epoch.copy(),
            weights=[np.asarray(w) for w in weights],
            biases=[np.asarray(b) for b in biases],
            config={
                "cost": self.cost,
                "init": self.init,
                "seed": self.seed,
                "dtype": self.dtype.name,
                "monitor": self.monitor,
                "independent_init": self.independent_init,
                "backend": self.backend,
            },
        )
        if self.schedule is None and self.early_stopping is None:
            return result
        result.config["schedule"] = repr(self.schedule) if self.schedule else None
        result.config["early_stopping"] = self.early_stopping
        result.best_epoch = self.best_epoch.copy()
        result.stopped_epoch = self.stopped_epoch.copy()
        result.eta_per_epoch = self.eta_per_epoch
        return result

    def _best_or_current_params(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        weights, biases = self._engine.params()
        weights, biases = [np.array(w) for w in weights], [np.array(b) for b in biases]
        if self._best_params is not None:
            kept = self.best_epoch >= 0
            for now, best in zip(weights + biases, self._best_params[0] + self._best_params[1]):
                now[kept] = best[kept]
        return weights, biases


def sweep(
    training_data: DataLike,
    *,
    eta: float | Sequence[float],
    lmbda: float | Sequence[float] = 0.0,
    epochs: int = 30,
    batch_size: int | Sequence[int] = 10,
    callback: Callable[[Trainer], object] | None = None,
    progress: bool = False,
    **kwargs: Any,
) -> SweepResult:
    """Train one model per point of the grid ``batch_size × eta × lmbda``; return the curves.

    All models share the data, the mini-batch order and (by default) the initial weights, so
    curves differ only by their hyper-parameters: chapter 3's controlled experiment.

    Parameters
    ----------
    training_data : Dataset or (X, y)
    eta, lmbda : float or sequence of float
    epochs : int
    batch_size : int or sequence of int
        Each batch size trains as a separate fused engine, one after another.
    callback : callable, optional
        ``callback(trainer)`` after every epoch (progress, early stopping, schedules).
    progress : bool
        Show a progress bar on stderr (model-epochs done, ETA, number diverged) when stderr
        is a terminal.
    **kwargs
        Any other :class:`Trainer` argument: sizes, cost, init, evaluation_data, monitor,
        seed, dtype, independent_init, n_threads, group_size, backend, schedule,
        early_stopping, monitor_subsample.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import numpy as np, sgdfast
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((200, 8)); y = (X[:, 0] > 0.5).astype(int)
    >>> res = sgdfast.sweep((X, y), eta=[0.1, 1.0], epochs=3, sizes=(8, 4, 2))
    >>> res.training_cost.shape
    (2, 3)
    """
    epochs = check.positive_int(epochs, "epochs")
    batch_sizes = check.int_grid(batch_size, "batch_size")
    trainers = [
        Trainer(training_data, eta=eta, lmbda=lmbda, batch_size=m, **kwargs) for m in batch_sizes
    ]
    callbacks = [] if callback is None else [callback]
    bar = None
    if progress:
        from ._progress import ProgressBar

        bar = ProgressBar(epochs, sum(t.n_models for t in trainers))
        callbacks.append(bar)

    def after_epoch(trainer: Trainer) -> None:
        for c in callbacks:
            c(trainer)

    try:
        parts = [t.run(epochs, after_epoch) for t in trainers]
    finally:
        if bar is not None:
            bar.close()
    return parts[0] if len(parts) == 1 else SweepResult.concatenate(parts)
