"""Tests for SweepResult: save/load round trips, the tidy table, predictions, display."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import sgdfast
from conftest import make_classification
from sgdfast import DataError, SweepResult
from sgdfast._result import FORMAT_VERSION

ETAS = [0.05, 0.5, 3.0, 1e9]  # the last one diverges in the first epoch
EPOCHS = 3
FORMATS = (".npz", ".json", ".csv")


def make_result(dtype: str, monitor: tuple[str, ...] | None = None) -> SweepResult:
    train = make_classification(150, 10, 3, seed=0)
    evaluation = make_classification(60, 10, 3, seed=1)
    return sgdfast.sweep(
        train,
        eta=ETAS,
        lmbda=[0.5, 2.0],
        epochs=EPOCHS,
        sizes=(10, 7, 3),
        evaluation_data=evaluation,
        monitor=sgdfast._result.MONITORS if monitor is None else monitor,
        seed=4,
        dtype=dtype,
    )


@pytest.fixture(scope="module")
def result() -> SweepResult:
    return make_result("float32")


@pytest.fixture(scope="module")
def result64() -> SweepResult:
    return make_result("float64")


def assert_same(a: SweepResult, b: SweepResult, *, weights: bool = True) -> None:
    """Every field equal, bit for bit (NaN where NaN), with the same dtypes."""
    for f in dataclasses.fields(SweepResult):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name in ("weights", "biases"):
            if weights:
                assert len(x) == len(y)
                for u, v in zip(x, y):
                    assert u.dtype == v.dtype
                    np.testing.assert_array_equal(u, v)
        elif isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray), f.name
            assert x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif weights or f.name not in ("sizes", "config"):  # CSV: curves only
            assert x == y, f.name


def test_the_sweep_has_one_diverging_eta(result: SweepResult, result64: SweepResult) -> None:
    assert result.diverged.tolist() == [False] * 6 + [True] * 2
    assert result64.diverged.tolist() == [False] * 6 + [True] * 2
    assert not np.isfinite(result.weights[0][-1]).all()  # a diverged model's weights


# --------------------------------------------------------------------------------------------
# save / load
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".npz", ".json"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_is_exact(
    result: SweepResult, result64: SweepResult, tmp_path: Path, suffix: str, dtype: str
) -> None:
    original = result if dtype == "float32" else result64
    path = tmp_path / f"result{suffix}"
    original.save(path)
    back = SweepResult.load(path)
    assert_same(original, back)
    assert back.config == original.config
    assert isinstance(back.config["monitor"], tuple)
    assert back.weights[0].dtype == np.dtype(dtype)


def test_round_trip_of_unmonitored_and_renamed_suffix(tmp_path: Path) -> None:
    res = make_result("float32", monitor=())
    assert res.monitored == ()
    path = tmp_path / "RESULT.JSON"
    res.save(str(path))
    back = SweepResult.load(path)
    assert back.monitored == () and back.training_cost is None
    assert_same(res, back)


def test_npz_layout(result: SweepResult, tmp_path: Path) -> None:
    """Plain numpy reads the file: every array by name, the rest as JSON metadata."""
    path = tmp_path / "r.npz"
    result.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("metadata")))
    assert meta["format"] == "sgdfast.SweepResult"
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["sgdfast_version"] == sgdfast.__version__
    assert meta["sizes"] == [10, 7, 3] and meta["epochs"] == EPOCHS
    assert meta["config"]["seed"] == 4
    assert sorted(arrays) == sorted(
        [
            "eta",
            "lmbda",
            "batch_size",
            "diverged_epoch",
            *sgdfast._result.MONITORS,
            "weights_0",
            "weights_1",
            "biases_0",
            "biases_1",
        ]
    )
    assert arrays["weights_1"].shape == (8, 3, 7)


def test_json_layout(result: SweepResult, tmp_path: Path) -> None:
    """Standard JSON (no NaN literals); NaN is null, the diverged curves are all null."""
    path = tmp_path / "r.json"
    result.save(path)
    text = path.read_text()
    assert "NaN" not in text
    doc = json.loads(text)
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["eta"] == [e for e in ETAS for _ in range(2)]
    assert doc["training_cost"][-1] == [None] * EPOCHS
    assert doc["dtypes"]["weights"] == ["float32", "float32"]
    assert np.shape(doc["weights"][0]) == (8, 7, 10)


def test_json_keeps_infinities(result64: SweepResult, tmp_path: Path) -> None:
    weights = [w.copy() for w in result64.weights]
    weights[0][0, 0, :3] = [np.inf, -np.inf, np.nan]
    res = dataclasses.replace(result64, weights=weights)
    res.save(tmp_path / "r.json")
    back = SweepResult.load(tmp_path / "r.json")
    np.testing.assert_array_equal(back.weights[0][0, 0, :3], [np.inf, -np.inf, np.nan])
    assert_same(res, back)


def test_csv_round_trip_keeps_the_curves(result: SweepResult, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    result.save(path)
    back = SweepResult.load(path)
    assert_same(result, back, weights=False)
    assert back.weights == [] and back.sizes == ()
    assert back.config == {"monitor": result.monitored}
    with pytest.raises(ValueError, match="no weights"):
        back.predict(np.zeros((1, 10)))
    assert "8 models, 3 epochs, 2 diverged" in repr(back)


def test_csv_reads_as_the_tidy_table(result: SweepResult, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "r.csv"
    result.save(path)
    pd.testing.assert_frame_equal(pd.read_csv(path), result.to_pandas())


@pytest.mark.parametrize("suffix", FORMATS)
def test_load_rejects_other_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"other{suffix}"
    if suffix == ".npz":
        np.savez(path, x=np.arange(3))
    elif suffix == ".json":
        path.write_text(json.dumps({"x": 1}))
    else:
        path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=f"^{path}: not an? sgdfast result"):
        SweepResult.load(path)


@pytest.mark.parametrize("suffix", FORMATS)
def test_load_damaged_file_names_it(result: SweepResult, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"r{suffix}"
    result.save(path)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=f"^{path}: "):
        SweepResult.load(path)


def test_load_newer_format_version(result: SweepResult, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    result.save(path)
    doc = json.loads(path.read_text())
    doc["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"format version 2.*upgrade sgdfast"):
        SweepResult.load(path)


def test_save_load_errors(result: SweepResult, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^path: unknown file type '\.txt'"):
        result.save(tmp_path / "r.txt")
    with pytest.raises(ValueError, match=r"^path: unknown file type '\(no suffix\)'"):
        SweepResult.load(tmp_path / "r")
    with pytest.raises(FileNotFoundError):
        SweepResult.load(tmp_path / "absent.npz")


def test_config_values_json_cannot_hold(result: SweepResult, tmp_path: Path) -> None:
    config = {**result.config, "when": np.float32(0.5), "schedule": object()}
    res = dataclasses.replace(result, config=config)
    res.save(tmp_path / "r.npz")
    back = SweepResult.load(tmp_path / "r.npz")
    assert back.config["when"] == 0.5
    assert back.config["schedule"].startswith("<object object")


# --------------------------------------------------------------------------------------------
# to_pandas
# --------------------------------------------------------------------------------------------


def test_to_pandas_is_tidy(result: SweepResult) -> None:
    pytest.importorskip("pandas")
    df = result.to_pandas()
    assert list(df.columns) == [
        "model",
        "eta",
        "lmbda",
        "batch_size",
        "epoch",
        *sgdfast._result.MONITORS,
        "diverged",
    ]
    assert len(df) == result.n_models * EPOCHS
    assert [str(t) for t in df.dtypes] == ["int64"] * 1 + ["float64"] * 2 + ["int64"] * 2 + [
        "float64"
    ] * 4 + ["bool"]
    last = df[df.epoch == EPOCHS - 1].set_index("model")
    np.testing.assert_array_equal(last["eta"], result.eta)
    np.testing.assert_array_equal(last["lmbda"], result.lmbda)
    np.testing.assert_array_equal(last["training_cost"], result.training_cost[:, -1])
    wide = df.pivot(index="model", columns="epoch", values="evaluation_accuracy")
    np.testing.assert_array_equal(wide.to_numpy(), result.evaluation_accuracy)
    assert df.groupby("model")["diverged"].any().tolist() == result.diverged.tolist()
    assert df[df.diverged]["training_cost"].isna().all()


def test_to_pandas_without_pandas(result: SweepResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas: pip install pandas"):
        result.to_pandas()


# --------------------------------------------------------------------------------------------
# predict / accuracy with the trained weights
# --------------------------------------------------------------------------------------------


def test_accuracy_agrees_with_the_monitored_accuracy(result64: SweepResult) -> None:
    """float64: the numpy forward pass classifies exactly as the engine did."""
    train = make_classification(150, 10, 3, seed=0)
    evaluation = make_classification(60, 10, 3, seed=1)
    np.testing.assert_array_equal(
        result64.accuracy(train.X, train.y), result64.training_accuracy[:, -1]
    )
    np.testing.assert_array_equal(
        result64.accuracy(evaluation.X, evaluation.y), result64.evaluation_accuracy[:, -1]
    )
    assert result64.accuracy(train.X, train.y, model=1) == result64.training_accuracy[1, -1]
    assert np.isnan(result64.accuracy(train.X, train.y, model=-1))


def test_accuracy_float32_within_one_sample(result: SweepResult) -> None:
    train = make_classification(150, 10, 3, seed=0)
    np.testing.assert_allclose(
        result.accuracy(train.X, train.y), result.training_accuracy[:, -1], atol=1 / 150
    )


def test_predict_and_output_shapes(result: SweepResult) -> None:
    X = make_classification(20, 10, 3, seed=5).X.astype(np.float64)
    out = result.output(X)
    assert out.shape == (8, 20, 3) and out.dtype == np.float32
    healthy = ~result.diverged
    assert ((out[healthy] >= 0) & (out[healthy] <= 1)).all()
    labels = result.predict(X)
    assert labels.shape == (8, 20) and labels.dtype == np.int64
    np.testing.assert_array_equal(result.predict(X, model=2), labels[2])
    np.testing.assert_array_equal(result.predict(X, model=-8), labels[0])
    np.testing.assert_array_equal(labels[:6], np.argmax(out[:6], axis=-1))


def test_predict_is_the_reference_forward_pass(result64: SweepResult) -> None:
    X = make_classification(30, 10, 3, seed=6).X
    k = 3
    net = sgdfast.reference.Network(
        [w[k] for w in result64.weights], [b[k] for b in result64.biases], "cross_entropy"
    )
    activations, _ = net.feedforward(X.astype(np.float64))
    np.testing.assert_allclose(result64.output(X, model=k), activations[-1].T, rtol=1e-12)


def test_predict_errors(result: SweepResult) -> None:
    with pytest.raises(ValueError, match=r"^output: X has 4 features but the networks' input"):
        result.output(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"^predict: X must be 2-D"):
        result.predict(np.zeros(10))
    with pytest.raises(IndexError, match=r"^model: 8 is out of range for 8 models"):
        result.predict(np.zeros((1, 10)), model=8)
    with pytest.raises(TypeError, match=r"^model: expected an integer"):
        result.predict(np.zeros((1, 10)), model=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^accuracy: X and y must have the same length"):
        result.accuracy(np.zeros((3, 10)), [0, 1])


# --------------------------------------------------------------------------------------------
# select, repr
# --------------------------------------------------------------------------------------------


def test_select(result: SweepResult) -> None:
    healthy = result.select(~result.diverged)
    assert healthy.n_models == 6 and not healthy.diverged.any()
    one = result.select(3)
    assert one.n_models == 1 and one.eta.tolist() == [result.eta[3]]
    np.testing.assert_array_equal(one.weights[0][0], result.weights[0][3])
    np.testing.assert_array_equal(one.training_cost[0], result.training_cost[3])
    assert one.config == result.config and one.config is not result.config
    with pytest.raises(ValueError, match="selects no model"):
        result.select([])


def test_repr(result: SweepResult) -> None:
    text = repr(result)
    lines = text.splitlines()
    assert lines[0] == (
        "SweepResult: 8 models of [10, 7, 3] (cross_entropy cost, default init, float32, "
        "seed 4), 3 epochs, 2 diverged"
    )
    assert lines[1] == "values at the last epoch:"
    assert lines[2].split() == ["model", "eta", "lmbda", "m", *sgdfast._result.MONITORS]
    assert len(lines) == 3 + 8
    assert lines[-1].split()[:4] == ["7", "1e+09", "2", "10"]
    assert lines[-1].endswith("-  diverged at epoch 0")
    assert f"{result.training_cost[0, -1]:.5g}" in lines[3]


def test_repr_of_many_models_is_short() -> None:
    res = sgdfast.sweep(
        make_classification(40, 4, 2, seed=0), eta=np.geomspace(0.01, 1, 40).tolist(), epochs=1
    )
    lines = repr(res).splitlines()
    assert len(lines) == 3 + 12 + 1
    assert [line.split()[0] for line in lines[3:]] == [
        *map(str, range(6)),
        "...",
        *map(str, range(34, 40)),
    ]


def test_repr_html(result: SweepResult) -> None:
    page = result._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    assert page.count("<tr>") == 1 + 8
    assert "<th>training_cost</th>" in page and "diverged at epoch 0" in page
    # Text is escaped.
    res = dataclasses.replace(result, config={**result.config, "cost": "<b>"})
    assert "&lt;b&gt; cost" in res._repr_html_()
