"""sgdfast.stability: exact Hessian-vector products, sharpness, the 2/λ_max bound, and the
Euler / gradient-descent analogy."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import matplotlib.pyplot as plt
import numpy as np
import pytest

import sgdfast
from conftest import assert_main_thread_keeps_running, make_classification
from sgdfast import _core, _seeding, reference
from sgdfast import stability as st

SIZES = (12, 5, 4, 3)  # two hidden layers: every branch of the R-operator
LMBDA = 2.0


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data() -> sgdfast.Dataset:
    return make_classification(150, 12, 3, seed=0)


def params(sizes=SIZES, seed=1, init="large"):
    """One model's float64 parameters (per layer (out, in) and (out,))."""
    w, b = _seeding.initial_params(sizes, 1, seed=seed, init=init, dtype=np.float64)
    return [a[0] for a in w], [a[0] for a in b]


def operator(data, theta, cost, **kwargs):
    w, b = st.unflatten_params(theta, SIZES)
    return st.HessianOperator(data, w, b, cost=cost, lmbda=LMBDA, **kwargs)


# --------------------------------------------------------------------------------------------
# Gradient and Hessian-vector products
# --------------------------------------------------------------------------------------------


def test_flatten_round_trip():
    w, b = params()
    theta = st.flatten_params(w, b)
    w2, b2 = st.unflatten_params(theta, SIZES)
    assert theta.shape == (sum((i + 1) * o for i, o in zip(SIZES[:-1], SIZES[1:])),)
    for x, y in zip(w + b, w2 + b2):
        np.testing.assert_array_equal(x, y)
    assert theta[: 5 * 12].reshape(5, 12).tolist() == w[0].tolist()  # W₁ first, row-major
    assert theta[5 * 12 : 5 * 13].tolist() == b[0].tolist()  # then b₁


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_cost_and_gradient_match_the_reference(data, cost):
    """C(θ) is network2's total_cost; one full-batch reference step is θ − η∇C(θ)."""
    w, b = params()
    value, grad = st.HessianOperator(data, w, b, cost=cost, lmbda=LMBDA).value_and_gradient()
    X, y, n = data.X.astype(np.float64), data.y, len(data)
    net = reference.Network(w, b, cost)
    total, _ = net.cost_and_correct(X, y)
    l2 = 0.5 * (LMBDA / n) * sum(float(np.sum(a**2)) for a in w)
    assert value == pytest.approx(total / n + l2, rel=1e-12)
    eta = 1e-3
    net.sgd_step(X, y, eta, LMBDA, n)
    step = st.flatten_params(w, b) - st.flatten_params(net.weights, net.biases)
    np.testing.assert_allclose(grad, step / eta, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_gradient_matches_finite_differences_of_the_cost(data, cost):
    theta = st.flatten_params(*params())
    _, grad = operator(data, theta, cost).value_and_gradient()
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(3):
        v = rng.standard_normal(theta.size)
        plus, _ = operator(data, theta + h * v, cost).value_and_gradient()
        minus, _ = operator(data, theta - h * v, cost).value_and_gradient()
        assert grad @ v == pytest.approx((plus - minus) / (2 * h), rel=1e-7)


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
@pytest.mark.parametrize("subsample", [None, 60])
def test_hvp_matches_finite_differences_of_the_gradient(data, cost, subsample):
    theta = st.flatten_params(*params())
    kwargs = dict(subsample=subsample, seed=3)
    op = operator(data, theta, cost, **kwargs)
    v = np.random.default_rng(1).standard_normal(theta.size)
    hv = op.matvec(v)
    h = 1e-5
    _, g_plus = operator(data, theta + h * v, cost, **kwargs).value_and_gradient()
    _, g_minus = operator(data, theta - h * v, cost, **kwargs).value_and_gradient()
    fd = (g_plus - g_minus) / (2 * h)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
    assert op.n_samples == (subsample or len(data))


def test_several_vectors_at_once_equal_one_at_a_time(data):
    op = st.HessianOperator(data, *params(), lmbda=LMBDA)
    V = np.random.default_rng(2).standard_normal((3, op.n_params))
    HV = op.matvec(V)
    assert HV.shape == V.shape
    for v, hv in zip(V, HV):
        np.testing.assert_array_equal(op.matvec(v), hv)
    assert op.n_products == 6


def test_results_do_not_depend_on_the_thread_count():
    big = make_classification(1300, 12, 3, seed=5)  # three parallel tasks of 512 samples
    w, b = params()
    v = np.random.default_rng(3).standard_normal(st.flatten_params(w, b).size)
    runs = [st.HessianOperator(big, w, b, lmbda=LMBDA, n_threads=t) for t in (1, 2, 3)]
    hv = [op.matvec(v) for op in runs]
    grads = [op.value_and_gradient() for op in runs]
    for other_hv, other_grad in zip(hv[1:], grads[1:]):
        np.testing.assert_array_equal(other_hv, hv[0])
        assert other_grad[0] == grads[0][0]
        np.testing.assert_array_equal(other_grad[1], grads[0][1])
    s1 = st.sharpness(big, w, b, lmbda=LMBDA, n_threads=1)
    s2 = st.sharpness(big, w, b, lmbda=LMBDA, n_threads=2)
    np.testing.assert_array_equal(s1.eigenvalues, s2.eigenvalues)


def test_hessian_vector_products_release_the_gil():
    big = make_classification(4000, 784, 10, seed=0)
    op = st.HessianOperator(big, *params((784, 30, 10), init="default"), n_threads=1)
    V = np.random.default_rng(4).standard_normal((8, op.n_params))
    assert_main_thread_keeps_running(lambda: op.matvec(V), min_seconds=0.1, max_gap=0.05)


# --------------------------------------------------------------------------------------------
# Eigenvalues
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_eigenvalues_match_a_dense_eigendecomposition(data, cost):
    op = st.HessianOperator(data, *params(), cost=cost, lmbda=LMBDA)
    H = op.dense()
    np.testing.assert_allclose(H, H.T, atol=1e-14 * np.abs(H).max())
    exact = np.linalg.eigvalsh(H)[::-1]
    for method, max_iter in (("lanczos", 100), ("power", 1000)):
        s = st.sharpness(
            data, *params(), cost=cost, lmbda=LMBDA, k=3, method=method, max_iter=max_iter
        )
        assert s.converged and s.method == method
        np.testing.assert_allclose(s.eigenvalues, exact[:3], rtol=1e-9)
        assert s.threshold == pytest.approx(2 / exact[0], rel=1e-9)
        # The reported residuals are the true ones.
        u = s.eigenvectors
        np.testing.assert_allclose(
            np.linalg.norm(op.matvec(u) - s.eigenvalues[:, None] * u, axis=1),
            s.residuals,
            atol=1e-15,
        )
        assert s.relative_residual <= s.tol


def test_lanczos_reports_non_convergence(data):
    with pytest.warns(RuntimeWarning, match="raise max_iter"):
        s = st.sharpness(data, *params(), lmbda=LMBDA, k=2, tol=1e-12, max_iter=3)
    assert not s.converged and s.iterations == 3
    assert "NOT converged" in str(s)


def test_sharpness_of_a_sweep_model(data):
    res = sgdfast.sweep(data, eta=[0.5, 2.0], lmbda=[0.0, 3.0], epochs=2, sizes=SIZES)
    s = st.sharpness_of(res, 3, data, k=2)
    direct = st.sharpness(
        data, [w[3] for w in res.weights], [b[3] for b in res.biases], lmbda=3.0, k=2
    )
    np.testing.assert_array_equal(s.eigenvalues, direct.eigenvalues)
    # The L2 term: λ/n more curvature along every weight direction.
    flat = st.sharpness_of(res, 3, data, lmbda=0.0)
    assert s.lambda_max > flat.lambda_max


# --------------------------------------------------------------------------------------------
# Along training, thresholds, plots
# --------------------------------------------------------------------------------------------


def test_sharpness_monitor_as_a_sweep_callback(data):
    monitor = st.SharpnessMonitor(data, models=[1], subsample=None, tol=1e-8)
    res = sgdfast.sweep(data, eta=[0.5, 1.0], epochs=2, sizes=SIZES, callback=monitor)
    h = monitor.history(res)
    assert h.epochs.tolist() == [1, 2] and h.eta.tolist() == [1.0]
    final = st.sharpness_of(res, 1, data)
    assert h.sharpness[0, -1] == pytest.approx(final.lambda_max, rel=1e-10)


def test_a_diverged_model_has_no_sharpness(data):
    res = sgdfast.sweep(data, eta=[0.5, 1e6], lmbda=5.0, epochs=1, sizes=SIZES)
    assert res.diverged.tolist() == [False, True]
    monitor = st.SharpnessMonitor(data, subsample=None)
    monitor.measure(res)
    h = monitor.history(res)
    assert np.isfinite(h.sharpness[0, 0]) and np.isnan(h.sharpness[1, 0])
    assert np.isnan(h.threshold[1, 0]) and h.threshold[0, 0] == 2 / h.sharpness[0, 0]


def test_sharpness_along_training(data):
    h = st.sharpness_along_training(
        data,
        eta=[0.5, 4.0],
        epochs=4,
        every=2,
        batch_size=len(data),
        sizes=SIZES,
        init="large",
        subsample=None,
        dtype="float64",
    )
    assert h.epochs.tolist() == [0, 2, 4]
    assert h.sharpness.shape == h.residuals.shape == (2, 3)
    w0, b0 = _seeding.initial_params(SIZES, 1, seed=0, init="large", dtype=np.float64)
    at_init = st.sharpness(data, [w[0] for w in w0], [b[0] for b in b0], tol=1e-4)
    assert h.sharpness[:, 0] == pytest.approx(at_init.lambda_max, rel=1e-6)
    np.testing.assert_allclose(h.threshold, 2 / h.sharpness)
    np.testing.assert_allclose(h.stability_ratio, h.eta[:, None] * h.sharpness / 2)
    assert h.result is not None and h.result.epochs == 4
    assert "2/η" in str(h)

    comparison = st.compare_thresholds(history=h, empirical=1.0)
    assert comparison.sharpness_at_init == h.sharpness[0, 0]
    assert comparison.ratio == pytest.approx(1.0 / comparison.predicted_at_init)
    assert comparison.predicted_min == pytest.approx(np.min(h.threshold))
    ax = st.plot_thresholds(comparison)
    assert ax.get_xscale() == "log" and 0 < ax.get_xlim()[0] < 0.5
    assert len(st.plot_sharpness(h).lines) == 4


def test_compare_thresholds_reads_search_results_and_probes():
    search = SimpleNamespace(
        threshold=0.5,
        recommended=0.25,
        bracket=(0.1, 1.0),
        probes=[
            SimpleNamespace(eta=0.1, curve=[3, 2], cls="decreasing"),
            SimpleNamespace(eta=1.0, curve=[3, 3], cls="oscillating"),
        ],
    )
    c = st.compare_thresholds(4.0, empirical=search)
    assert (c.predicted_at_init, c.empirical, c.bracket) == (0.5, 0.5, (0.1, 1.0))
    assert c.probes == [(0.1, True), (1.0, False)]
    assert c.ratio == 1.0
    assert "empirical / predicted at init = 1" in str(c)

    probes = [
        (0.01, "decreasing"),
        (0.1, [3, 2], "decreasing"),
        (1.0, False),
        (3.0, True),  # a lucky probe above the first failure does not count
        (10.0, "diverging"),
    ]
    c = st.compare_thresholds(empirical=probes)
    assert (c.empirical, c.bracket, c.predicted_at_init) == (0.1, (0.1, 1.0), None)
    low, high = st.plot_thresholds(c).get_xlim()
    assert 0 < low < 0.01 and high > 10.0  # every probe on the log axis
    assert st.compare_thresholds(empirical=[(1.0, "oscillating")]).empirical is None
    ax = st.plot_thresholds(c)
    assert ax.get_xscale() == "log"

    with pytest.raises(TypeError, match="empirical: cannot read probe"):
        st.compare_thresholds(empirical=[object()])
    with pytest.raises(TypeError, match="empirical: expected a number"):
        st.compare_thresholds(empirical={"threshold": 1})
    with pytest.raises(TypeError, match="at_init"):
        st.compare_thresholds("sharp")


# --------------------------------------------------------------------------------------------
# The analogy: Euler, trapezoidal, gradient descent on a quadratic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [1 / 4, 1 / 8, 1 / 16, 0.1])
def test_euler_matches_the_closed_form(h):
    n = np.arange(41)
    np.testing.assert_allclose(st.euler(h, 40), (1 - 15 * h) ** n, rtol=1e-12)
    np.testing.assert_allclose(
        st.trapezoidal(h, 40), ((1 - 7.5 * h) / (1 + 7.5 * h)) ** n, rtol=1e-12
    )


def test_euler_on_the_stiff_equation():
    assert st.stability_limit(15.0) == 2 / 15
    blows_up, oscillates = st.euler(1 / 4, 20), st.euler(1 / 8, 20)
    assert abs(blows_up[-1]) > 1e5  # |1 − 15/4| = 2.75 > 1
    assert np.all(np.sign(oscillates[1:]) == -np.sign(oscillates[:-1]))  # 1 − 15/8 < 0
    assert abs(oscillates[-1]) < 0.1
    trap = st.trapezoidal(1 / 8, 20)
    assert np.all(np.diff(trap) < 0) and np.all(trap > 0)  # decays monotonically
    assert np.all(np.abs(st.trapezoidal(1 / 4, 20)[1:]) < 1)  # A-stable: any h


@pytest.mark.parametrize("rotate", [False, True])
def test_gradient_descent_on_a_quadratic_is_stable_exactly_below_2_over_lambda_max(rotate):
    eigenvalues = np.array([10.0, 3.0, 0.5])
    hessian: np.ndarray = eigenvalues
    if rotate:
        q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
        hessian = q @ np.diag(eigenvalues) @ q.T
    limit = st.stability_limit(hessian)
    assert limit == pytest.approx(0.2, rel=1e-14)
    steps = 5000
    below = st.gradient_descent_quadratic(hessian, limit * (1 - 1e-3), steps)
    above = st.gradient_descent_quadratic(hessian, limit * (1 + 1e-3), steps)
    assert np.linalg.norm(below[-1]) < 1e-3  # |1 − ηλ| < 1 for every λ
    assert np.linalg.norm(above[-1]) > 1e3  # |1 − ηλ_max| > 1
    # Above the limit the divergent mode flips sign every step: the oscillation.
    top = above[-10:] @ (q[:, 0] if rotate else np.eye(3)[0])
    assert np.all(np.sign(top[1:]) == -np.sign(top[:-1]))


def test_plot_stability_analogy():
    axes = st.plot_stability_analogy()
    assert len(axes) == 2
    assert len(axes[0].lines) >= 5 and len(axes[1].lines) == 2


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [
        (dict(cost="hinge"), ValueError, r"cost: unknown value"),
        (dict(lmbda=-1.0), ValueError, r"lmbda: .*>= 0"),
        (dict(lmbda=[1.0]), TypeError, r"lmbda: expected one number"),
        (dict(k=0), ValueError, r"k: must be >= 1"),
        (dict(k=10_000), ValueError, r"k: the Hessian has only"),
        (dict(method="arnoldi"), ValueError, r"method: unknown value"),
        (dict(tol=0.0), ValueError, r"tol: .*> 0"),
        (dict(max_iter=0), ValueError, r"max_iter: must be >= 1"),
        (dict(subsample=0), ValueError, r"subsample: must be >= 1"),
        (dict(seed=-1), ValueError, r"seed: must be >= 0"),
        (dict(n_threads=0), ValueError, r"n_threads: must be >= 1"),
        (dict(v0=np.zeros(3)), ValueError, r"v0: expected a non-zero"),
    ],
)
def test_bad_arguments(data, overrides, error, pattern):
    with pytest.raises(error, match=pattern):
        st.sharpness(data, *params(), **overrides)


def test_bad_models(data):
    w, b = params()
    with pytest.raises(TypeError, match="weights: expected a list"):
        st.sharpness(data, w[0], b)
    with pytest.raises(ValueError, match="biases: 2 arrays for 3"):
        st.sharpness(data, w, b[:2])
    with pytest.raises(
        ValueError, match=r"weights: layer 1 takes 4 inputs but layer 0 has 5 units"
    ):
        st.sharpness(data, [w[0], w[1].T, w[2]], b)
    with pytest.raises(ValueError, match=r"weights: layer 0 should be 2-D.*sharpness_of"):
        st.sharpness(data, [w[0][None], w[1], w[2]], b)
    with pytest.raises(TypeError, match="weights: layer 0 has dtype complex"):
        st.sharpness(data, [w[0].astype(complex), w[1], w[2]], b)
    with pytest.raises(ValueError, match="NaN or inf"):
        st.sharpness(data, [w[0] * np.nan, w[1], w[2]], b)
    with pytest.raises(ValueError, match="data: has 12 features but the first layer takes 11"):
        st.sharpness(data, [w[0][:, :11], w[1], w[2]], b)
    two = make_classification(40, 12, 5, seed=0)
    with pytest.raises(ValueError, match="data: labels go up to 4"):
        st.sharpness(two, w, b)
    with pytest.raises(TypeError, match="data: expected a Dataset"):
        st.sharpness("mnist", w, b)
    res = sgdfast.sweep(data, eta=[0.1, 1e6], lmbda=5.0, epochs=1, sizes=SIZES)
    with pytest.raises(ValueError, match="model: the sweep has 2 models"):
        st.sharpness_of(res, 2, data)
    assert res.diverged[1]
    with pytest.raises(ValueError, match=r"model: model 1 .* diverged"):
        st.sharpness_of(res, 1, data)
    with pytest.raises(TypeError, match="result: expected a SweepResult"):
        st.sharpness_of({"weights": w}, 0, data)


def test_core_functions_reject_bad_arrays(data):
    """The compiled functions re-check what they rely on: TypeError/ValueError, no panic."""
    w, b = params()
    X, y = np.asarray(data.X, dtype=np.float64), np.asarray(data.y)
    n_params = st.flatten_params(w, b).size
    args = dict(sizes=list(SIZES), cost="cross_entropy", weights=w, biases=b, x=X, y=y, lmbda=1.0)

    def hvp(**overrides):
        kwargs = {**args, "v": np.ones(n_params), **overrides}
        return _core.hessian_vector_product(**kwargs)

    assert hvp().shape == (n_params,)
    cases = [
        (dict(x=X.astype(np.float32)), TypeError, r"X: expected a numpy array of float64"),
        (dict(x=X.T.copy()), ValueError, r"X: expected shape \(150, 12\), got \(12, 150\)"),
        (dict(x=np.asfortranarray(X)), ValueError, r"X: must be C-contiguous"),
        (dict(x=np.where(X > 0.5, np.nan, X)), ValueError, r"X: contains NaN"),
        (dict(y=y.astype(np.int32)), TypeError, r"y: expected a numpy array of int64"),
        (dict(y=y + 5), ValueError, r"y: label .* outside \[0, 3\)"),
        (
            dict(weights=[w[0].T.copy(), w[1], w[2]]),
            ValueError,
            r"weights: layer 0: expected shape \(5, 12\), got \(12, 5\)",
        ),
        (dict(weights=w[:2]), ValueError, r"weights: expected 3 arrays"),
        (dict(biases=[b[0], b[1], [1.0, 2.0, 3.0]]), TypeError, r"biases: expected a numpy"),
        (dict(sizes=[12]), ValueError, r"sizes: need at least two layers"),
        (dict(cost="hinge"), ValueError, r"cost: unknown cost"),
        (dict(lmbda=-1.0), ValueError, r"lmbda: must be finite and >= 0"),
        (dict(v=np.ones(n_params + 1)), ValueError, r"v: expected shape"),
        (dict(v=np.ones((2, 2, n_params))), ValueError, r"v: expected shape"),
        (dict(v=np.full(n_params, np.inf)), ValueError, r"v: contains NaN or inf"),
        (dict(n_threads=0), ValueError, r"n_threads: must be >= 1"),
        (dict(n_train=0), ValueError, r"n_train: must be >= 1"),
    ]
    for overrides, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            hvp(**overrides)
    with pytest.raises(TypeError, match="X: expected a numpy array of float64"):
        _core.cost_gradient(**{**args, "x": X.tolist()})


# --------------------------------------------------------------------------------------------
# The book's network on MNIST
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mnist_sharpness_at_init_predicts_the_books_threshold():
    """[784, 30, 10], λ = 5: 2/λ_max at initialisation is close to the book's ~0.5."""
    data = sgdfast.load_mnist()
    w, b = _seeding.initial_params((784, 30, 10), 1, seed=0, dtype=np.float64)
    s = st.sharpness(data.train, [a[0] for a in w], [a[0] for a in b], lmbda=5.0, subsample=5000)
    assert s.converged
    assert 3.0 < s.lambda_max < 5.0
    assert 0.4 < s.threshold < 0.67
