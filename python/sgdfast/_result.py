"""The result of a sweep: per-model curves, hyper-parameters and final weights.

:class:`SweepResult` also predicts with the trained weights (the forward pass of
:class:`sgdfast.reference.Network`), exports a tidy table (:meth:`SweepResult.to_pandas`,
CSV) and saves/loads itself (npz, JSON, CSV).

File formats (``save`` picks one from the suffix):

``.npz``
    Every array under its field name (``weights_0``, ``biases_0``, ... per layer) and a JSON
    string ``metadata``: ``format``, ``format_version``, ``sgdfast_version``, the other
    fields (``sizes``, ``epochs``, ``config``) and ``array_lists`` (layers per list field).
    Loads back exactly.
``.json``
    One object: ``format``, ``format_version``, ``sgdfast_version``, ``dtypes`` (per array
    field), then every field by name, arrays as nested lists (``weights`` is a list with one
    nested list per layer). NaN is ``null`` and ±infinity ``"Infinity"``/``"-Infinity"``
    (JSON has neither). Floats are written in full (shortest round-trip form), so this too
    loads back exactly.
``.csv``
    The table of :meth:`SweepResult.to_pandas`: one row per model and epoch. NaN is an
    empty cell. It holds the curves and hyper-parameters only: loading it gives a result
    without weights, sizes or settings.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union

import numpy as np

from .data import DataError, Dataset, _check_X

MONITORS = ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")

FORMAT = "sgdfast.SweepResult"
FORMAT_VERSION = 1
SAVE_SUFFIXES = (".npz", ".json", ".csv")

# Columns of the tidy table before the monitored quantities, and after them.
_TABLE_KEYS = ("model", "eta", "lmbda", "batch_size", "epoch")
_TABLE_LAST = "diverged"
_HEADER_KEYS = ("format", "format_version", "sgdfast_version")
_REPR_MAX_ROWS = 12

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class SweepResult:
    """What a sweep measured: one row per model, one column per epoch.

    Attributes
    ----------
    eta, lmbda, batch_size : ndarray, shape (K,)
        Each model's hyper-parameters. Models enumerate the grid ``batch_size × eta × lmbda``
        with the last varying fastest.
    training_cost, training_accuracy, evaluation_cost, evaluation_accuracy : ndarray or None
        Shape (K, epochs); None where not monitored. Costs include the L2 term (as
        network2's ``total_cost``); accuracies are fractions. NaN from the epoch a model
        diverged.
    diverged_epoch : ndarray of int, shape (K,)
        The epoch (0-based) in which a model's parameters or cost became non-finite; -1 if
        never. A diverged model stops training; other models are unaffected.
    weights, biases : list of ndarray
        Final parameters per layer, shapes (K, out, in) and (K, out).
    sizes : tuple of int
    config : dict
        The remaining settings (cost, init, seed, dtype, ...).
    best_epoch, stopped_epoch : ndarray of int, shape (K,), or None
        With a schedule or early stopping (else None): each model's epoch of highest
        validation accuracy (-1 if none), and the last epoch it trained before early stopping
        or its schedule ended it (-1 if it trained to the end or diverged). ``weights`` are
        then the best epoch's.
    eta_per_epoch : ndarray, shape (K, epochs), or None
        With a schedule or early stopping: the learning rate of each model in each epoch
        (NaN once it stopped).

    Examples
    --------
    >>> import numpy as np, sgdfast
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((200, 8)); y = (X[:, 0] > 0.5).astype(int)
    >>> res = sgdfast.sweep((X, y), eta=[0.5, 3.0], epochs=5, sizes=(8, 4, 2),
    ...                     monitor=["training_cost", "training_accuracy"], seed=1)
    >>> res.n_models, res.monitored
    (2, ('training_cost', 'training_accuracy'))
    >>> res.predict(X[:5], model=1).shape
    (5,)
    >>> bool(res.accuracy(X, y, model=1) == res.training_accuracy[1, -1])
    True
    """

    eta: np.ndarray
    lmbda: np.ndarray
    batch_size: np.ndarray
    sizes: tuple[int, ...]
    epochs: int
    training_cost: np.ndarray | None
    training_accuracy: np.ndarray | None
    evaluation_cost: np.ndarray | None
    evaluation_accuracy: np.ndarray | None
    diverged_epoch: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)
    best_epoch: np.ndarray | None = None
    stopped_epoch: np.ndarray | None = None
    eta_per_epoch: np.ndarray | None = None

    @property
    def n_models(self) -> int:
        return len(self.eta)

    @property
    def diverged(self) -> np.ndarray:
        """Boolean mask of the models that diverged."""
        return self.diverged_epoch >= 0

    @property
    def monitored(self) -> tuple[str, ...]:
        """The quantities measured after every epoch (those not None), in a fixed order."""
        return tuple(name for name in MONITORS if getattr(self, name) is not None)

    # ----------------------------------------------------------------------------------------
    # Selecting and joining models
    # ----------------------------------------------------------------------------------------

    def select(self, models: int | slice | Sequence[int] | np.ndarray) -> SweepResult:
        """The result of some of the models only.

        Parameters
        ----------
        models : int, slice, sequence of int or boolean mask
            Which models, as numpy indexes the first axis. An int keeps that one model (the
            result still has a model axis, of length 1).

        Returns
        -------
        SweepResult

        Examples
        --------
        >>> import numpy as np, sgdfast
        >>> X = np.random.default_rng(0).random((60, 4)); y = (X[:, 0] > 0.5).astype(int)
        >>> res = sgdfast.sweep((X, y), eta=[0.1, 1.0, 1e6], lmbda=1.0, epochs=2, seed=1)
        >>> res.select(~res.diverged).eta.tolist()
        [0.1, 1.0]
        """
        index = np.arange(self.n_models)[models]
        index = np.atleast_1d(index)
        if index.size == 0:
            raise ValueError("models: selects no model")

        def take(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[index]

        changes: dict[str, Any] = {
            f.name: take(getattr(self, f.name)) for f in self._array_fields()
        }
        return dataclasses.replace(
            self,
            **changes,
            weights=[w[index] for w in self.weights],
            biases=[b[index] for b in self.biases],
            config=dict(self.config),
        )

    @staticmethod
    def concatenate(parts: Sequence[SweepResult]) -> SweepResult:
        """Join results of the same sizes and epochs model-wise (e.g. one per batch size)."""
        first = parts[0]

        def cat(name: str) -> np.ndarray | None:
            values = [getattr(p, name) for p in parts]
            return None if any(v is None for v in values) else np.concatenate(values)

        return SweepResult(
            sizes=first.sizes,
            epochs=min(p.epochs for p in parts),
            weights=[np.concatenate(ws) for ws in zip(*(p.weights for p in parts))],
            biases=[np.concatenate(bs) for bs in zip(*(p.biases for p in parts))],
            config=first.config,
            **{f.name: cat(f.name) for f in SweepResult._array_fields()},
        )

    @classmethod
    def _array_fields(cls) -> list[dataclasses.Field[Any]]:
        """Fields holding one array (or None) with the model axis first."""
        return [
            f
            for f in dataclasses.fields(cls)
            if f.name not in ("sizes", "epochs", "weights", "biases", "config")
        ]

    # ----------------------------------------------------------------------------------------
    # Predicting with the trained weights
    # ----------------------------------------------------------------------------------------

    def output(self, X: Any, model: int | None = None) -> np.ndarray:
        """Output-layer activations of the trained networks for samples ``X``.

        The forward pass of :meth:`sgdfast.reference.Network.feedforward` (equal to rounding),
        in the dtype the models were trained in, on ``X`` converted to float32 as the training
        data was.

        Parameters
        ----------
        X : array_like, shape (n, n_features)
        model : int, optional
            One model's outputs; default: every model's.

        Returns
        -------
        ndarray
            Shape (n, n_out) for one model, (K, n, n_out) for all. Values in [0, 1].
        """
        return self._output(X, model, "output")

    def predict(self, X: Any, model: int | None = None) -> np.ndarray:
        """Predicted classes: the index of the most active output unit (first one on ties).

        Parameters
        ----------
        X : array_like, shape (n, n_features)
        model : int, optional
            One model's predictions; default: every model's.

        Returns
        -------
        ndarray of int64
            Shape (n,) for one model, (K, n) for all. Meaningless for a diverged model
            (its parameters are not finite).
        """
        return self._predict(X, model, "predict")

    def accuracy(self, X: Any, y: Any, model: int | None = None) -> np.ndarray | float:
        """Fraction of the samples ``(X, y)`` that the trained networks classify right.

        Equal to the monitored ``training_accuracy`` at the last epoch when given the
        training data (to float rounding of near-ties).

        Parameters
        ----------
        X : array_like, shape (n, n_features)
        y : array_like of int, shape (n,)
        model : int, optional
            One model's accuracy; default: every model's.

        Returns
        -------
        float or ndarray of float, shape (K,)
            NaN for a diverged model, as in the monitored curves.
        """
        data = Dataset.from_arrays(X, y, name="accuracy")
        predicted = self._predict(data.X, model, "accuracy")
        correct = np.mean(predicted == data.y, axis=-1)
        if model is not None:
            return math.nan if self.diverged[model] else float(correct)
        return np.where(self.diverged, np.nan, correct)

    def _output(self, X: Any, model: int | None, name: str) -> np.ndarray:
        X = self._check_X(X, name)
        models = range(self.n_models) if model is None else [self._check_model(model)]
        out = np.stack([self._feedforward(k, X) for k in models])
        return out if model is None else out[0]

    def _predict(self, X: Any, model: int | None, name: str) -> np.ndarray:
        return np.argmax(self._output(X, model, name), axis=-1).astype(np.int64)

    def _check_X(self, X: Any, name: str) -> np.ndarray:
        if not self.weights:
            raise ValueError(
                f"{name}: this result has no weights (a result loaded from CSV holds only the "
                "curves; save as .npz or .json to keep the weights)"
            )
        X = _check_X(X, name)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"{name}: X has {X.shape[1]} features but the networks' input layer has "
                f"{self.sizes[0]} units"
            )
        return X

    def _check_model(self, model: int) -> int:
        if isinstance(model, (bool, np.bool_)) or not isinstance(model, (int, np.integer)):
            raise TypeError(f"model: expected an integer index, got {model!r}")
        if not -self.n_models <= model < self.n_models:
            raise IndexError(f"model: {model} is out of range for {self.n_models} models")
        return int(model) % self.n_models

    def _feedforward(self, k: int, X: np.ndarray) -> np.ndarray:
        """Model k's output activations, shape (n, n_out), for float32 samples X.

        :meth:`sgdfast.reference.Network.feedforward`'s maths, ``a ← σ(w a + b)`` layer by
        layer, with the samples as rows (``a @ w.T``): twice as fast with numpy's BLAS for
        these thin matrices, equal to rounding."""
        from .reference import sigmoid

        a = X.astype(self.weights[0].dtype, copy=False)
        # exp overflows to inf for very negative z, and sigmoid is then exactly 0: no warning.
        with np.errstate(over="ignore", invalid="ignore"):
            for w, b in zip(self.weights, self.biases):
                a = sigmoid(a @ w[k].T + b[k])
        return a

    # ----------------------------------------------------------------------------------------
    # The tidy table
    # ----------------------------------------------------------------------------------------

    def _table_columns(self) -> dict[str, np.ndarray]:
        """The tidy table as columns: model, eta, lmbda, batch_size, epoch, each monitored
        quantity, and ``diverged`` (the model had diverged by that epoch)."""
        K, E = self.n_models, self.epochs
        model = np.repeat(np.arange(K, dtype=np.int64), E)
        epoch = np.tile(np.arange(E, dtype=np.int64), K)
        columns: dict[str, np.ndarray] = {
            "model": model,
            "eta": np.asarray(self.eta, dtype=np.float64)[model],
            "lmbda": np.asarray(self.lmbda, dtype=np.float64)[model],
            "batch_size": np.asarray(self.batch_size, dtype=np.int64)[model],
            "epoch": epoch,
        }
        for name in self.monitored:
            columns[name] = np.asarray(getattr(self, name), dtype=np.float64)[:, :E].ravel()
        start = self.diverged_epoch[model]
        columns[_TABLE_LAST] = (start >= 0) & (epoch >= start)
        return columns

    def to_pandas(self) -> Any:
        """The curves as a tidy ``pandas.DataFrame``: one row per model and epoch.

        Columns: ``model`` (index into this result), ``eta``, ``lmbda``, ``batch_size``,
        ``epoch`` (from 0), one column per monitored quantity (NaN once a model diverged),
        and ``diverged`` (bool: the model had diverged by that epoch). Needs pandas.

        Examples
        --------
        >>> import numpy as np, sgdfast
        >>> X = np.random.default_rng(0).random((60, 4)); y = (X[:, 0] > 0.5).astype(int)
        >>> res = sgdfast.sweep((X, y), eta=[0.1, 1.0], epochs=3, seed=1)
        >>> df = res.to_pandas()
        >>> df.shape
        (6, 7)
        >>> list(df.columns)
        ['model', 'eta', 'lmbda', 'batch_size', 'epoch', 'training_cost', 'diverged']
        >>> df.groupby("eta")["training_cost"].min().index.tolist()
        [0.1, 1.0]
        """
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(
                "SweepResult.to_pandas() needs pandas: pip install pandas "
                "(or pip install 'sgdfast[pandas]')"
            ) from e
        return pd.DataFrame(self._table_columns())

    # ----------------------------------------------------------------------------------------
    # Saving and loading
    # ----------------------------------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Write the result to a file; the suffix picks the format.

        Parameters
        ----------
        path : str or os.PathLike
            ``.npz`` (compressed numpy archive), ``.json`` or ``.csv``. The first two hold
            everything and load back exactly; CSV holds the tidy table of
            :meth:`to_pandas` (curves and hyper-parameters, no weights).

        Examples
        --------
        >>> import numpy as np, sgdfast, tempfile, os
        >>> X = np.random.default_rng(0).random((60, 4)); y = (X[:, 0] > 0.5).astype(int)
        >>> res = sgdfast.sweep((X, y), eta=[0.1, 1.0], epochs=2, seed=1)
        >>> path = os.path.join(tempfile.mkdtemp(), "sweep.npz")
        >>> res.save(path)
        >>> back = sgdfast.SweepResult.load(path)
        >>> bool(np.array_equal(back.training_cost, res.training_cost))
        True
        >>> back.config == res.config
        True
        """
        suffix = _suffix(path, "path")
        with open(path, "wb") as f:
            if suffix == ".npz":
                self._save_npz(f)
            elif suffix == ".json":
                self._save_json(f)
            else:
                self._save_csv(f)

    @classmethod
    def load(cls, path: PathLike) -> SweepResult:
        """Read a result written by :meth:`save` (the suffix says the format).

        Raises
        ------
        OSError
            The file cannot be read.
        sgdfast.DataError
            It is not an sgdfast result file, is damaged, or was written by a newer
            sgdfast (a higher format version).
        """
        suffix = _suffix(path, "path")
        with open(path, "rb") as f:
            blob = f.read()
        try:
            if suffix == ".npz":
                return cls._load_npz(blob, path)
            if suffix == ".json":
                return cls._load_json(blob, path)
            return cls._load_csv(blob, path)
        except DataError:
            raise
        except Exception as e:  # a damaged file fails in many ways; say which file
            raise DataError(f"{path}: not a readable sgdfast result file ({e})") from e

    def _split_fields(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values JSON can hold, arrays) by field name; None fields are left out."""
        values: dict[str, Any] = {}
        arrays: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, np.ndarray) or (
                isinstance(v, list) and all(isinstance(a, np.ndarray) for a in v)
            ):
                arrays[f.name] = v
            else:
                values[f.name] = v
        return values, arrays

    def _header(self) -> dict[str, Any]:
        from . import __version__

        return {"format": FORMAT, "format_version": FORMAT_VERSION, "sgdfast_version": __version__}

    def _save_npz(self, f: IO[bytes]) -> None:
        values, arrays = self._split_fields()
        members: dict[str, Any] = {}
        lists = {}
        for name, a in arrays.items():
            if isinstance(a, list):
                lists[name] = len(a)
                members.update({f"{name}_{i}": x for i, x in enumerate(a)})
            else:
                members[name] = a
        metadata = {**self._header(), **values, "array_lists": lists}
        np.savez_compressed(f, metadata=np.asarray(_dumps(metadata)), **members)

    def _save_json(self, f: IO[bytes]) -> None:
        values, arrays = self._split_fields()
        dtypes = {
            name: [x.dtype.name for x in a] if isinstance(a, list) else a.dtype.name
            for name, a in arrays.items()
        }
        document = {**self._header(), **values, "dtypes": dtypes}
        for name, a in arrays.items():
            document[name] = [_json_list(x) for x in a] if isinstance(a, list) else _json_list(a)
        f.write(_dumps(document).encode())

    def _save_csv(self, f: IO[bytes]) -> None:
        columns = self._table_columns()
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        cells = [_csv_cells(c) for c in columns.values()]
        writer.writerows(zip(*cells))
        text.flush()
        text.detach()  # leave f to its owner

    @classmethod
    def _from_parts(
        cls, values: dict[str, Any], arrays: dict[str, Any], path: PathLike
    ) -> SweepResult:
        header = {k: values.pop(k, None) for k in _HEADER_KEYS}
        if header["format"] != FORMAT:
            raise DataError(f"{path}: not an sgdfast result file (format {header['format']!r})")
        version = header["format_version"]
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise DataError(
                f"{path}: written by sgdfast {header['sgdfast_version']} in result format "
                f"version {version}; this sgdfast reads versions up to {FORMAT_VERSION}: "
                "upgrade sgdfast"
            )
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in arrays:
                kwargs[f.name] = arrays[f.name]
            elif f.name in values:
                kwargs[f.name] = values[f.name]
            elif f.name in MONITORS or f.default is None:  # saved as None: left out
                kwargs[f.name] = None
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DataError(f"{path}: the result file lacks {f.name!r}")
        kwargs["sizes"] = tuple(int(s) for s in kwargs["sizes"])
        kwargs["epochs"] = int(kwargs["epochs"])
        config = dict(kwargs.get("config", {}))
        if isinstance(config.get("monitor"), list):  # JSON has no tuples
            config["monitor"] = tuple(config["monitor"])
        kwargs["config"] = config
        return cls(**kwargs)

    @classmethod
    def _load_npz(cls, blob: bytes, path: PathLike) -> SweepResult:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            members = {name: archive[name] for name in archive.files}
        if "metadata" not in members:
            raise DataError(f"{path}: not an sgdfast result file (no metadata)")
        values = json.loads(str(members.pop("metadata")))
        lists = values.pop("array_lists", {})
        arrays: dict[str, Any] = {
            name: [members.pop(f"{name}_{i}") for i in range(n)] for name, n in lists.items()
        }
        arrays.update(members)
        return cls._from_parts(values, arrays, path)

    @classmethod
    def _load_json(cls, blob: bytes, path: PathLike) -> SweepResult:
        document = json.loads(blob)
        if not isinstance(document, dict) or "dtypes" not in document:
            raise DataError(f"{path}: not an sgdfast result file")
        dtypes = document.pop("dtypes")
        arrays: dict[str, Any] = {}
        for name, dtype in dtypes.items():
            nested = document.pop(name)
            if isinstance(dtype, list):
                arrays[name] = [np.array(x, dtype=d) for x, d in zip(nested, dtype)]
            else:
                arrays[name] = np.array(nested, dtype=dtype)
        return cls._from_parts(document, arrays, path)

    @classmethod
    def _load_csv(cls, blob: bytes, path: PathLike) -> SweepResult:
        rows = list(csv.reader(io.StringIO(blob.decode("utf-8"), newline="")))
        if not rows or tuple(rows[0][: len(_TABLE_KEYS)]) != _TABLE_KEYS:
            raise DataError(
                f"{path}: not an sgdfast result table (the header must start with "
                f"{','.join(_TABLE_KEYS)})"
            )
        header, body = rows[0], rows[1:]
        monitored = [name for name in header if name in MONITORS]
        unknown = set(header) - set(_TABLE_KEYS) - set(monitored) - {_TABLE_LAST}
        if unknown:
            raise DataError(f"{path}: unknown columns {sorted(unknown)}")
        if not body:
            raise DataError(f"{path}: the table has no rows")
        col = {name: [row[i] for row in body] for i, name in enumerate(header)}
        model = np.array(col["model"], dtype=np.int64)
        epoch = np.array(col["epoch"], dtype=np.int64)
        K, E = int(model.max()) + 1, int(epoch.max()) + 1
        if len(body) != K * E or not np.array_equal(model * E + epoch, np.arange(K * E)):
            raise DataError(f"{path}: expected one row per model and epoch, in order")

        def per_model(name: str, dtype: type) -> np.ndarray:
            return np.array(col[name][::E], dtype=dtype)

        curves = {
            name: np.array([float(v) if v else math.nan for v in col[name]]).reshape(K, E)
            for name in monitored
        }
        diverged = (
            np.array(col[_TABLE_LAST]) == "True"
            if _TABLE_LAST in col
            else np.zeros(K * E, dtype=bool)
        ).reshape(K, E)
        return cls(
            eta=per_model("eta", np.float64),
            lmbda=per_model("lmbda", np.float64),
            batch_size=per_model("batch_size", np.int64),
            sizes=(),
            epochs=E,
            training_cost=curves.get("training_cost"),
            training_accuracy=curves.get("training_accuracy"),
            evaluation_cost=curves.get("evaluation_cost"),
            evaluation_accuracy=curves.get("evaluation_accuracy"),
            diverged_epoch=np.where(diverged.any(axis=1), diverged.argmax(axis=1), -1),
            weights=[],
            biases=[],
            config={"monitor": tuple(monitored)},
        )

    # ----------------------------------------------------------------------------------------
    # Display
    # ----------------------------------------------------------------------------------------

    def _title(self) -> str:
        c = self.config
        models = f"{self.n_models} model" + ("" if self.n_models == 1 else "s")
        epochs = f"{self.epochs} epoch" + ("" if self.epochs == 1 else "s")
        network = f" of {list(self.sizes)}" if self.sizes else ""
        settings = ", ".join(
            str(v)
            for v in (
                f"{c['cost']} cost" if "cost" in c else None,
                f"{c['init']} init" if "init" in c else None,
                c.get("dtype"),
                f"seed {c['seed']}" if "seed" in c else None,
            )
            if v is not None
        )
        settings = f" ({settings})" if settings else ""
        return f"{models}{network}{settings}, {epochs}, {int(self.diverged.sum())} diverged"

    def _table_rows(self, max_rows: int | None = None) -> list[list[str]]:
        """Header and one row per model: model, eta, lmbda, m, each monitored quantity at
        the last epoch ("-" once diverged), and a note. Over ``max_rows`` models, the first
        and last few with a row of "..." between."""
        monitor = [name for name in self.config.get("monitor", ()) if name in self.monitored]
        monitor += [name for name in self.monitored if name not in monitor]
        rows = [["model", "eta", "lmbda", "m", *monitor, ""]]
        shown: list[int | None] = list(range(self.n_models))
        if max_rows is not None and self.n_models > max_rows:
            head = (max_rows + 1) // 2
            shown = [*range(head), None, *range(self.n_models - (max_rows - head), self.n_models)]
        for k in shown:
            if k is None:
                rows.append(["..."] + [""] * (len(rows[0]) - 1))
                continue
            values = [
                _format_value(name, getattr(self, name)[k, -1]) if self.epochs else "-"
                for name in monitor
            ]
            note = f"diverged at epoch {self.diverged_epoch[k]}" if self.diverged[k] else ""
            rows.append(
                [
                    str(k),
                    f"{self.eta[k]:g}",
                    f"{self.lmbda[k]:g}",
                    str(self.batch_size[k]),
                    *values,
                    note,
                ]
            )
        return rows

    def _table_lines(self, max_rows: int | None = None) -> list[str]:
        """The table of :meth:`_table_rows` as aligned text (numbers right-aligned)."""
        rows = self._table_rows(max_rows)
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        return [
            ("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) + "  " + row[-1]).rstrip()
            for row in rows
        ]

    def __repr__(self) -> str:
        lines = [f"SweepResult: {self._title()}"]
        if self.monitored:
            lines.append("values at the last epoch:")
        lines += ["  " + line for line in self._table_lines(_REPR_MAX_ROWS)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._table_rows(_REPR_MAX_ROWS)
        cell = "<td style='text-align:right'>{}</td>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr>" + "".join(cell.format(html.escape(c)) for c in row) + "</tr>" for row in rows[1:]
        )
        caption = html.escape(f"SweepResult: {self._title()}")
        note = " (values at the last epoch)" if self.monitored else ""
        return (
            f"<table><caption style='text-align:left'><b>{caption}</b>{note}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _suffix(path: PathLike, name: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise ValueError(
            f"{name}: unknown file type {suffix or '(no suffix)'!r} of {str(path)!r}; "
            f"expected one of {', '.join(SAVE_SUFFIXES)}"
        )
    return suffix


def _format_value(name: str, value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.4f}" if name.endswith("accuracy") else f"{value:.5g}"


def _jsonable(value: Any) -> Any:
    """JSON encoder fallback: numpy values as Python ones, anything else as its str()."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return str(value)


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, allow_nan=False, default=_jsonable)


def _json_list(a: np.ndarray) -> Any:
    """``a.tolist()`` with NaN as None and ±infinity as "Infinity"/"-Infinity" (numpy reads
    both back into a float array)."""
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return a.tolist()
    out = a.astype(object)
    out[np.isnan(a)] = None
    out[np.isposinf(a)] = "Infinity"
    out[np.isneginf(a)] = "-Infinity"
    return out.tolist()


def _csv_cells(column: np.ndarray) -> list[Any]:
    """A column as CSV cells: floats in full (repr), NaN as an empty cell."""
    if column.dtype.kind == "f":
        return [repr(v) if math.isfinite(v) else "" for v in column.tolist()]
    return column.tolist()
