"""scikit-learn conventions for sgdfast: an estimator and a fused validation curve.

:class:`SGDNetClassifier` is one sgdfast network behind scikit-learn's estimator interface
(``fit``, ``predict``, ``predict_proba``, ``score``, ``get_params``/``set_params``), so
``GridSearchCV``, ``cross_val_score``, pipelines and ``validation_curve`` work with it.
:func:`validation_curve` is scikit-learn's ``validation_curve`` with the same signature and
results, except that for a learning rate or L2 parameter it trains every value of the range
in one fused sweep per fold instead of one fit per value.

Needs scikit-learn (``pip install 'sgdfast[sklearn]'``).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv
    from sklearn.model_selection import validation_curve as _sklearn_validation_curve
    from sklearn.utils import _safe_indexing, check_random_state, indexable
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as e:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "sgdfast.SGDNetClassifier and sgdfast.validation_curve need scikit-learn: "
        "pip install scikit-learn (or pip install 'sgdfast[sklearn]')"
    ) from e

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


from ._result import SweepResult
from ._trainer import sweep

__all__ = ["FUSED_PARAMS", "SGDNetClassifier", "validation_curve"]

FUSED_PARAMS = ("eta", "lmbda")
"""Parameters whose values :func:`validation_curve` trains together in one fused sweep."""


class SGDNetClassifier(ClassifierMixin, BaseEstimator):
    """A sigmoid network trained by mini-batch SGD (Nielsen's network2), scikit-learn style.

    ``fit`` runs :func:`sgdfast.sweep` with one model: layer sizes ``(n_features,
    *hidden_layer_sizes, n_classes)``, cross-entropy cost and L2 weight decay by default.
    Labels may be anything :func:`numpy.unique` sorts (ints, strings, ...); ``classes_``
    maps them to output units.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int
        Units of each hidden layer; ``()`` for none.
    eta : float
        Learning rate η > 0.
    lmbda : float
        L2 regularisation parameter λ >= 0; the weight decay per step is ``1 - η λ / n``
        with n the number of training samples, as in the book.
    epochs : int
    batch_size : int
        Mini-batch size m; at most the number of training samples (smaller training sets
        make one batch of all samples).
    cost : {"cross_entropy", "quadratic"}
    init : {"default", "large"}
        Weights ~ N(0, 1/n_in) or N(0, 1); biases ~ N(0, 1).
    dtype : {"float32", "float64"}
    random_state : int, numpy.random.RandomState or None
        Seeds the initial weights and every epoch's shuffle. An int is the seed of
        :func:`sgdfast.sweep`; None draws a fresh seed at every ``fit``.
    n_threads : int, optional
        Threads to train on (default: all cores). Results do not depend on it.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The labels, in the order of the output units.
    n_features_in_ : int
    result_ : SweepResult
        The training run (one model): hyper-parameters, final weights, divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from sgdfast import SGDNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((300, 4)); y = np.where(X[:, 0] + X[:, 1] > 1, "big", "small")
    >>> clf = SGDNetClassifier(hidden_layer_sizes=8, eta=2.0, epochs=20, random_state=0)
    >>> clf.fit(X, y).classes_.tolist()
    ['big', 'small']
    >>> clf.predict(X[:3]).tolist()
    ['small', 'big', 'big']
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (30,),
        *,
        eta: float = 0.5,
        lmbda: float = 0.0,
        epochs: int = 30,
        batch_size: int = 10,
        cost: str = "cross_entropy",
        init: str = "default",
        dtype: str = "float32",
        random_state: int | np.random.RandomState | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.eta = eta
        self.lmbda = lmbda
        self.epochs = epochs
        self.batch_size = batch_size
        self.cost = cost
        self.init = init
        self.dtype = dtype
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X: Any, y: Any) -> SGDNetClassifier:
        """Train on samples X (n_samples, n_features) with labels y (n_samples,).

        Returns
        -------
        self

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            If training diverged (the parameters became non-finite): lower ``eta``.
        """
        result = self._train(X, y, eta=self.eta, lmbda=self.lmbda)
        self._set_result(result)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Output activations normalised to sum to 1 over the classes.

        The network's sigmoid outputs are not probabilities; their normalised values are a
        score in [0, 1] per class, ordered as ``classes_``.

        Returns
        -------
        ndarray of float64, shape (n_samples, n_classes)
        """
        a = self._output(X).astype(np.float64)
        total = a.sum(axis=1, keepdims=True)
        # Every output saturated at 0 (or not finite: a diverged model): no preference.
        uniform = ~(np.isfinite(total) & (total > 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            proba = np.where(uniform, 1.0 / a.shape[1], a / np.where(uniform, 1.0, total))
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """The class of the most active output unit (the first one on ties)."""
        a = self._output(X)
        return self.classes_[np.argmax(a, axis=1)]

    # ----------------------------------------------------------------------------------------

    def _output(self, X: Any) -> np.ndarray:
        """The network's output activations, shape (n_samples, n_out)."""
        check_is_fitted(self)
        # float32, as sgdfast trains on; checked here once (finite, n_features_in_).
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self.result_._feedforward(0, X)

    def _sizes(self, n_features: int, n_classes: int) -> tuple[int, ...]:
        hidden = self.hidden_layer_sizes
        layers = (int(hidden),) if isinstance(hidden, (int, np.integer)) else tuple(hidden)
        return (n_features, *layers, n_classes)

    def _seed(self) -> int:
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
            self.random_state, bool
        ):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _train(
        self, X: Any, y: Any, *, eta: float | Sequence[float], lmbda: float | Sequence[float]
    ) -> SweepResult:
        """Validate (X, y), set ``classes_`` and ``n_features_in_``, and train one model per
        value of the grid ``eta × lmbda``."""
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return sweep(
            (X, encoded.ravel()),
            eta=eta,
            lmbda=lmbda,
            epochs=self.epochs,
            batch_size=min(self.batch_size, len(encoded))
            if isinstance(self.batch_size, numbers.Integral)
            else self.batch_size,
            sizes=self._sizes(X.shape[1], len(self.classes_)),
            cost=self.cost,
            init=self.init,
            seed=self._seed(),
            dtype=self.dtype,
            n_threads=self.n_threads,
            monitor=(),
        )

    def _set_result(self, result: SweepResult) -> None:
        self.result_ = result
        if result.diverged[0]:
            warnings.warn(
                f"SGDNetClassifier: training diverged at epoch {result.diverged_epoch[0]} "
                f"(eta={result.eta[0]:g}): the parameters are not finite and the predictions "
                "meaningless; lower eta",
                ConvergenceWarning,
                stacklevel=3,
            )


def _fit_each(
    estimator: SGDNetClassifier, X: Any, y: Any, name: str, values: Sequence[float]
) -> list[SGDNetClassifier]:
    """One fitted clone of ``estimator`` per value of parameter ``name``, all trained in one
    fused sweep; each equal to ``clone(estimator).set_params(name=value).fit(X, y)``."""
    base = clone(estimator)
    grid = {"eta": base.eta, "lmbda": base.lmbda, name: list(values)}
    result = base._train(X, y, eta=grid["eta"], lmbda=grid["lmbda"])
    fitted_attributes = {k: v for k, v in vars(base).items() if k.endswith("_")}
    fitted = []
    for k, value in enumerate(values):
        one = clone(base).set_params(**{name: value})
        vars(one).update(fitted_attributes)
        one._set_result(result.select(k))
        fitted.append(one)
    return fitted


def _is_fusable(estimator: Any, param_name: str, values: Sequence[Any]) -> bool:
    return (
        isinstance(estimator, SGDNetClassifier)
        and type(estimator).fit is SGDNetClassifier.fit  # a subclass's own fit runs as is
        and param_name in FUSED_PARAMS
        and len(values) > 0
        and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in values)
    )


def validation_curve(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    param_name: str,
    param_range: Iterable[Any],
    groups: Any = None,
    cv: Any = None,
    scoring: Any = None,
    n_jobs: int | None = None,
    pre_dispatch: int | str = "all",
    verbose: int = 0,
    error_score: float | str = np.nan,
    params: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and test scores for each value of one parameter: scikit-learn's
    ``validation_curve``, fused.

    Same arguments and results as :func:`sklearn.model_selection.validation_curve`. For an
    :class:`SGDNetClassifier` and ``param_name`` in :data:`FUSED_PARAMS` (``"eta"``,
    ``"lmbda"``), each fold trains every value of ``param_range`` at once, in one sweep of
    ``len(param_range)`` models on the engine; the models are the same as scikit-learn's
    one-fit-per-value loop would train (same seed, same mini-batches), so the scores are
    too. Any other estimator or parameter is passed to scikit-learn's function unchanged.

    Parameters
    ----------
    estimator : estimator
        Cloned, never fitted itself.
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    param_name : str
    param_range : iterable
        The values of ``param_name`` to try.
    groups, cv, scoring
        As in scikit-learn: ``cv=None`` is 5-fold (stratified for classifiers); ``scoring``
        None uses the estimator's ``score`` (accuracy).
    n_jobs, pre_dispatch, verbose, error_score, params
        Used by scikit-learn's loop only. The fused path trains on all cores already and
        raises on a failed fit (e.g. an invalid value) instead of scoring it
        ``error_score``; ``params`` (fit parameters) sends the call to scikit-learn's loop.

    Returns
    -------
    train_scores, test_scores : ndarray, shape (len(param_range), n_folds)

    Examples
    --------
    >>> import numpy as np, sgdfast
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((300, 6)); y = (X[:, 0] > X[:, 1]).astype(int)
    >>> clf = sgdfast.SGDNetClassifier(hidden_layer_sizes=8, epochs=10, random_state=0)
    >>> train, test = sgdfast.validation_curve(
    ...     clf, X, y, param_name="eta", param_range=[0.1, 1.0, 10.0], cv=3)
    >>> train.shape, test.shape
    ((3, 3), (3, 3))
    """
    values = list(param_range)
    if params or not _is_fusable(estimator, param_name, values):
        return _sklearn_validation_curve(
            estimator,
            X,
            y,
            param_name=param_name,
            param_range=values,
            groups=groups,
            cv=cv,
            scoring=scoring,
            n_jobs=n_jobs,
            pre_dispatch=pre_dispatch,
            verbose=verbose,
            error_score=error_score,
            **({} if params is None else {"params": params}),
        )
    X, y, groups = indexable(X, y, groups)
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    scorer = check_scoring(estimator, scoring=scoring)
    splits = list(cv.split(X, y, groups))
    train_scores = np.empty((len(values), len(splits)))
    test_scores = np.empty((len(values), len(splits)))
    for fold, (train, test) in enumerate(splits):
        X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
        X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
        for i, fitted in enumerate(_fit_each(estimator, X_train, y_train, param_name, values)):
            train_scores[i, fold] = scorer(fitted, X_train, y_train)
            test_scores[i, fold] = scorer(fitted, X_test, y_test)
    return train_scores, test_scores
