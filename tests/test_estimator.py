"""Tests for sgdfast.SGDNetClassifier (scikit-learn conventions) and the fused
sgdfast.validation_curve (same results as scikit-learn's loop)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.model_selection import validation_curve as sklearn_validation_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import sgdfast
from conftest import make_classification
from sgdfast.estimator import SGDNetClassifier, validation_curve


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    d = make_classification(240, 8, 3, seed=0)
    return d.X.astype(np.float64), d.y


def small(**params: Any) -> SGDNetClassifier:
    defaults: dict[str, Any] = {
        "hidden_layer_sizes": 6,
        "eta": 1.0,
        "epochs": 4,
        "random_state": 0,
    }
    return SGDNetClassifier(**{**defaults, **params})


# --------------------------------------------------------------------------------------------
# scikit-learn's own estimator checks
# --------------------------------------------------------------------------------------------


@parametrize_with_checks([SGDNetClassifier(random_state=0)])
def test_sklearn_estimator_checks(estimator: SGDNetClassifier, check: Any) -> None:
    check(estimator)


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------


def test_exported_from_sgdfast() -> None:
    assert sgdfast.SGDNetClassifier is SGDNetClassifier
    assert sgdfast.validation_curve is validation_curve


def test_params_and_clone() -> None:
    clf = SGDNetClassifier((20, 10), eta=0.25, lmbda=5.0, random_state=3)
    params = clf.get_params()
    assert params == {
        "hidden_layer_sizes": (20, 10),
        "eta": 0.25,
        "lmbda": 5.0,
        "epochs": 30,
        "batch_size": 10,
        "cost": "cross_entropy",
        "init": "default",
        "dtype": "float32",
        "random_state": 3,
        "n_threads": None,
    }
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    assert clf.set_params(eta=1.0, epochs=2) is clf
    assert clf.eta == 1.0 and clf.epochs == 2
    assert "eta=1.0" in repr(clf)


def test_fit_is_a_one_model_sweep(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Same seed, same data: the estimator's weights are sgdfast.sweep's, bit for bit."""
    X, y = data
    clf = small(lmbda=2.0, batch_size=16).fit(X, y)
    res = sgdfast.sweep(
        (X, y), eta=1.0, lmbda=2.0, epochs=4, batch_size=16, sizes=(8, 6, 3), seed=0
    )
    assert clf.result_.n_models == 1 and clf.n_features_in_ == 8
    for a, b in zip(clf.result_.weights + clf.result_.biases, res.weights + res.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clf.predict(X), res.predict(X, model=0))
    assert clf.score(X, y) == res.accuracy(X, y, model=0)


def test_arbitrary_labels(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    by_name = small().fit(X, names)
    by_int = small().fit(X, np.array([7, 11, 42])[y])
    assert by_name.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert by_int.classes_.tolist() == [7, 11, 42]
    predicted = by_name.predict(X)
    assert predicted.dtype == names.dtype
    np.testing.assert_array_equal(
        np.searchsorted(by_int.classes_, by_int.predict(X)),
        np.searchsorted(by_name.classes_, predicted),
    )


def test_predict_proba(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    clf = small().fit(X, y)
    proba = clf.predict_proba(X[:50])
    assert proba.shape == (50, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[np.argmax(proba, axis=1)], clf.predict(X[:50]))


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        small().predict(np.zeros((2, 8)))
    with pytest.raises(NotFittedError):
        small().predict_proba(np.zeros((2, 8)))


def test_wrong_number_of_features(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    clf = small().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but SGDNetClassifier is expecting 8"):
        clf.predict(X[:, :5])


def test_bad_params_name_the_argument(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    with pytest.raises(ValueError, match=r"^eta: every value must be > 0"):
        small(eta=-1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"^cost: unknown value 'hinge'"):
        small(cost="hinge").fit(X, y)


def test_batch_size_is_at_most_the_training_set(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    clf = small(batch_size=1000).fit(X[:30], y[:30])
    assert clf.result_.batch_size.tolist() == [30]


def test_random_state(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    w = [small(random_state=s).fit(X, y).result_.weights[0] for s in (1, 1, 2)]
    np.testing.assert_array_equal(w[0], w[1])
    assert not np.array_equal(w[0], w[2])
    rs = np.random.RandomState(5)
    assert (
        small(random_state=rs).fit(X, y).result_.config["seed"]
        != small(random_state=rs).fit(X, y).result_.config["seed"]
    )
    assert small(random_state=None).fit(X, y).result_.n_models == 1


def test_divergence_warns(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 0 .eta=1e.09.*lower eta"):
        clf = small(eta=1e9, lmbda=5.0).fit(X, y)
    assert clf.predict(X[:4]).shape == (4,)
    np.testing.assert_array_equal(clf.predict_proba(X[:4]), np.full((4, 3), 1 / 3))


def test_pickle_and_pandas_feature_names(data: tuple[np.ndarray, np.ndarray]) -> None:
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    clf = small().fit(frame, y)
    assert clf.feature_names_in_.tolist() == list(frame.columns)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(frame), clf.predict(frame))


def test_grid_search_and_pipeline(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    search = GridSearchCV(small(), {"eta": [1e-3, 2.0], "lmbda": [0.0, 1.0]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["eta"] == 2.0
    assert search.cv_results_["mean_test_score"].shape == (4,)
    scores = cross_val_score(make_pipeline(StandardScaler(), small()), X, y, cv=3)
    assert scores.shape == (3,) and (scores > 0.5).all()


# --------------------------------------------------------------------------------------------
# validation_curve
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param_name", "param_range"),
    [("eta", [0.01, 0.3, 3.0, 30.0]), ("lmbda", [0.0, 1.0, 10.0])],
)
def test_validation_curve_equals_sklearns(
    data: tuple[np.ndarray, np.ndarray], param_name: str, param_range: list[float]
) -> None:
    """Fused: one sweep per fold; the same models as sklearn's loop, so the same scores."""
    X, y = data
    ours = validation_curve(small(), X, y, param_name=param_name, param_range=param_range, cv=3)
    theirs = sklearn_validation_curve(
        small(), X, y, param_name=param_name, param_range=param_range, cv=3
    )
    assert ours[0].shape == ours[1].shape == (len(param_range), 3)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_validation_curve_fuses_one_sweep_per_fold(
    data: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sgdfast.estimator as module

    calls: list[Any] = []
    real_sweep = module.sweep

    def counting_sweep(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["eta"])
        return real_sweep(*args, **kwargs)

    monkeypatch.setattr(module, "sweep", counting_sweep)
    X, y = data
    etas = [0.1, 0.2, 0.4, 0.8, 1.6]
    validation_curve(small(), X, y, param_name="eta", param_range=etas, cv=KFold(4))
    assert calls == [etas] * 4


def test_validation_curve_scoring_and_divergence(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    kwargs: dict[str, Any] = {
        "param_name": "eta",
        "param_range": [0.5, 1e9],
        "cv": KFold(2),
        "scoring": "neg_log_loss",
    }
    with pytest.warns(ConvergenceWarning):
        ours = validation_curve(small(lmbda=5.0), X, y, **kwargs)
    with pytest.warns(ConvergenceWarning):
        theirs = sklearn_validation_curve(small(lmbda=5.0), X, y, **kwargs)
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert (ours[1] < 0).all()
    np.testing.assert_allclose(ours[1][1], -np.log(3))  # diverged: uniform scores


def test_validation_curve_other_parameters_fall_back_to_sklearn(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    kwargs: dict[str, Any] = {"param_name": "epochs", "param_range": [1, 3], "cv": 2}
    ours = validation_curve(small(), X, y, **kwargs)
    theirs = sklearn_validation_curve(small(), X, y, **kwargs)
    np.testing.assert_array_equal(ours[1], theirs[1])
    pipe = make_pipeline(StandardScaler(), small())
    kwargs = {"param_name": "sgdnetclassifier__eta", "param_range": [0.1, 1.0], "cv": 2}
    np.testing.assert_array_equal(
        validation_curve(pipe, X, y, **kwargs)[1], sklearn_validation_curve(pipe, X, y, **kwargs)[1]
    )
