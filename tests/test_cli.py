"""Tests for the ``sgdfast`` command (sgdfast.cli).

The important paths run as a subprocess (``python -m sgdfast``); the rest call
``cli.main([...])`` in-process. The data is a tiny fake MNIST written as IDX files (random
pixels and labels, 1200 training images), so runs take a fraction of a second. No test
touches the network or the user's cache.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sgdfast
from sgdfast import cli, data
from sgdfast._progress import ProgressBar
from sgdfast.data import MNIST_FILES, MnistFile

REAL_DATA = os.environ.get(data.ENV_VAR)  # captured before the fixture below unsets it
N_TRAIN_FILE = 1200  # images in the fake training file
QUICK = [
    "--train-size",
    "500",
    "--validation-size",
    "200",
    "--epochs",
    "2",
    "--sizes",
    "784",
    "10",
    "10",
]
ETAS = [0.1, 1.0, 1e5]  # the last one diverges in the first epoch


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (big-endian dimensions)."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def tiny_mnist_files(seed: int = 0) -> dict[str, bytes]:
    """The four MNIST files (gzipped) of a tiny fake MNIST, by file name."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (N_TRAIN_FILE, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, N_TRAIN_FILE, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 30, dtype=np.uint8),
    }
    return {name + ".gz": gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mnist")
    for name, payload in tiny_mnist_files().items():
        (folder / name).write_bytes(payload)
    return folder


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder, no SGDFAST_DATA, and no network (in this process)."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv(data.ENV_VAR, raising=False)

    def no_network(url: str, dest: Path, timeout: float) -> None:
        raise OSError(f"network disabled in tests ({url})")

    monkeypatch.setattr(data, "_fetch", no_network)
    return cache / "sgdfast" / "mnist"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m sgdfast ARGS`` with the environment the ``isolated`` fixture set up."""
    return subprocess.run(
        [sys.executable, "-m", "sgdfast", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``cli.main(ARGS)`` in-process; returns (exit status, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def parse_table(stdout: str) -> list[dict[str, str]]:
    """The sweep table as one dict per model (column -> cell; "note" -> trailing text)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["model"])
    header = lines[start].split()
    rows = []
    for line in lines[start + 1 :]:
        if " x " in line and "model-samples/s" in line:
            break
        cells = line.split()
        row = dict(zip(header, cells))
        row["note"] = " ".join(cells[len(header) :])
        rows.append(row)
    return rows


def assert_table_matches(rows: list[dict[str, str]], arrays: dict[str, np.ndarray]) -> None:
    """The table shows each model's hyper-parameters, last values and divergence."""
    assert len(rows) == len(arrays["eta"])
    for k, row in enumerate(rows):
        assert int(row["model"]) == k
        assert float(row["eta"]) == pytest.approx(arrays["eta"][k], rel=1e-5)
        assert float(row["lmbda"]) == pytest.approx(arrays["lmbda"][k])
        assert int(row["m"]) == arrays["batch_size"][k]
        for name in ("training_cost", "evaluation_accuracy"):
            last = arrays[name][k][-1]
            if row[name] == "-":
                assert last is None or math.isnan(last)
            else:
                assert float(row[name]) == pytest.approx(last, rel=1e-4, abs=1e-4)
        epoch = arrays["diverged_epoch"][k]
        assert row["note"] == ("" if epoch < 0 else f"diverged at epoch {epoch}")


def assert_usage_error(code: int, err: str, *names: str) -> None:
    """Exit 2, a single line ``sgdfast: error: ...`` naming the argument, no traceback."""
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sgdfast: error: ")
    assert "Traceback" not in err
    for name in names:
        assert name in lines[0]


# --------------------------------------------------------------------------------------------
# sweep: success
# --------------------------------------------------------------------------------------------


def test_sweep_subprocess_plot_and_npz(mnist_dir: Path, tmp_path: Path) -> None:
    png, npz = tmp_path / "cost.png", tmp_path / "result.npz"
    etas = [str(e) for e in ETAS]
    proc = run_cli(
        "sweep", "--data", mnist_dir, *QUICK, "--eta", *etas, "--plot", png, "--out", npz
    )
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1/2" not in proc.stderr  # stderr is not a terminal: no progress
    assert "3 models of [784, 10, 10]" in proc.stdout
    assert "500 training images" in proc.stdout and "200 validation images" in proc.stdout
    assert "model-samples/s" in proc.stdout

    blob = png.read_bytes()
    assert blob.startswith(b"\x89PNG\r\n\x1a\n") and len(blob) > 1000

    result = sgdfast.SweepResult.load(npz)
    assert result.eta.tolist() == ETAS
    assert result.lmbda.tolist() == [5.0] * 3
    assert result.sizes == (784, 10, 10)
    assert result.epochs == 2
    assert result.monitored == ("training_cost", "evaluation_accuracy")
    assert result.training_cost.shape == result.evaluation_accuracy.shape == (3, 2)
    assert result.weights[0].shape == (3, 10, 784)
    assert result.biases[1].shape == (3, 10)
    assert result.diverged_epoch.tolist() == [-1, -1, 0]
    config = result.config
    assert config["monitor"] == ("training_cost", "evaluation_accuracy")
    assert config["train_size"] == 500 and config["evaluation_size"] == 200
    assert config["seed"] == 1 and config["cost"] == "cross_entropy"
    assert config["data"] == str(mnist_dir)
    with np.load(npz) as f:
        metadata = json.loads(str(f["metadata"]))
        arrays = {k: f[k] for k in f.files if k != "metadata"}
    assert metadata["sgdfast_version"] == sgdfast.__version__
    assert metadata["format"] == "sgdfast.SweepResult"
    assert_table_matches(parse_table(proc.stdout), arrays)

    # ... and `sgdfast plot` draws it again from the file.
    replot = tmp_path / "again.png"
    proc = run_cli("plot", npz, "--out", replot)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"plot: {replot}\n"
    assert replot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_sweep_out_json_csv(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    out = tmp_path / f"result{suffix}"
    etas = [str(e) for e in ETAS]
    code, stdout, err = run_main(
        capsys, "sweep", "--data", mnist_dir, *QUICK, "--eta", *etas, "--out", out
    )
    assert code == 0, err
    assert f"results: {out}" in stdout
    rows = parse_table(stdout)
    if suffix == ".json":
        doc = json.loads(out.read_text())
        assert doc["eta"] == ETAS
        assert doc["sizes"] == [784, 10, 10]
        assert doc["config"]["train_size"] == 500
        assert len(doc["training_cost"]) == 3 and len(doc["training_cost"][0]) == 2
        assert doc["training_cost"][2] == [None, None]  # diverged: NaN becomes null
        assert np.shape(doc["weights"][0]) == (3, 10, 784)
        assert_table_matches(rows, {k: np.asarray(v, dtype=object) for k, v in doc.items()})
    else:
        with open(out, newline="") as f:
            table = list(csv.DictReader(f))
        assert list(table[0]) == [
            "model",
            "eta",
            "lmbda",
            "batch_size",
            "epoch",
            "training_cost",
            "evaluation_accuracy",
            "diverged",
        ]
        assert len(table) == 3 * 2
        assert [(int(r["model"]), int(r["epoch"])) for r in table] == [
            (k, e) for k in range(3) for e in range(2)
        ]
        assert [float(r["eta"]) for r in table[::2]] == ETAS
        assert table[-1]["training_cost"] == ""  # diverged: NaN is a missing value
        assert [r["diverged"] for r in table[-2:]] == ["True", "True"]
        last = {int(r["model"]): r for r in table if r["epoch"] == "1"}
        for k, row in enumerate(rows[:2]):
            assert float(row["training_cost"]) == pytest.approx(
                float(last[k]["training_cost"]), rel=1e-4
            )
            assert float(row["evaluation_accuracy"]) == pytest.approx(
                float(last[k]["evaluation_accuracy"]), abs=1e-4
            )


def test_sweep_grid_of_lmbda_and_batch_size(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "grid.csv"
    code, stdout, err = run_main(
        capsys,
        "sweep",
        "--data",
        mnist_dir,
        *QUICK,
        "--epochs",
        "1",
        "--eta",
        "0.5",
        "--lmbda",
        "0",
        "5",
        "--batch-size",
        "10",
        "25",
        "--monitor",
        "training_accuracy",
        "--out",
        out,
    )
    assert code == 0, err
    rows = parse_table(stdout)
    assert [(r["lmbda"], r["m"]) for r in rows] == [
        ("0", "10"),
        ("5", "10"),
        ("0", "25"),
        ("5", "25"),
    ]
    assert all(0 <= float(r["training_accuracy"]) <= 1 for r in rows)
    with open(out, newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["batch_size"] for r in table] == ["10", "10", "25", "25"]
    assert list(table[0])[-2:] == ["training_accuracy", "diverged"]


def test_sweep_default_sizes_are_the_books(
    mnist_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--train-size", "100", "--validation-size", "100", "--epochs", "1"]
    code, stdout, err = run_main(capsys, "sweep", "--data", mnist_dir, *args)
    assert code == 0, err
    assert "3 models of [784, 30, 10]" in stdout
    assert [r["eta"] for r in parse_table(stdout)] == ["0.025", "0.25", "2.5"]


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(
    mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sweep", "--data", mnist_dir, *QUICK, "--eta", "0.1", "1e5"]
    tty = Terminal()
    monkeypatch.setattr(sys, "stderr", tty)
    assert cli.main([str(a) for a in args]) == 0
    bar = tty.getvalue()
    last = bar.split("\r")[-1]
    assert "4/4" in last and "model-epoch" in last
    assert "epoch=2" in last and "diverged=1" in last
    assert "model-epoch" not in capsys.readouterr().out

    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert cli.main([*map(str, args), "--quiet"]) == 0
    assert quiet.getvalue() == ""


def test_progress_bar_counts_every_batch_size(small_data: sgdfast.Dataset) -> None:
    stream = io.StringIO()
    bar = ProgressBar(3, 4, force=True, file=stream, mininterval=0)
    sgdfast.sweep(
        small_data, eta=[0.5, 1e5], lmbda=5.0, batch_size=[10, 20], epochs=3, callback=bar
    )
    bar.close()
    last = stream.getvalue().split("\r")[-1]
    assert "12/12" in last
    assert "m=20" in last and "epoch=3" in last and "diverged=2" in last


def test_progress_bar_off_unless_a_terminal_or_forced() -> None:
    quiet = ProgressBar(2, 3, file=io.StringIO())
    assert quiet.disabled
    quiet.close()
    for bar in (
        ProgressBar(2, 3, file=Terminal()),
        ProgressBar(2, 3, file=io.StringIO(), force=True),
    ):
        assert not bar.disabled
        bar.close()


def test_sweep_progress_true_in_python(
    small_data: sgdfast.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    tty = Terminal()
    monkeypatch.setattr(sys, "stderr", tty)
    sgdfast.sweep(small_data, eta=[0.1, 1.0], epochs=2, progress=True)
    assert "4/4" in tty.getvalue().split("\r")[-1]
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    sgdfast.sweep(small_data, eta=[0.1, 1.0], epochs=2)
    assert quiet.getvalue() == ""


@pytest.mark.slow
@pytest.mark.skipif(not REAL_DATA, reason=f"needs {data.ENV_VAR} naming the MNIST files")
def test_book_experiment_on_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults are chapter 3's experiment, and its figure comes out as in the book."""
    assert REAL_DATA is not None
    monkeypatch.setenv(data.ENV_VAR, REAL_DATA)
    png, out = tmp_path / "cost.png", tmp_path / "book.json"
    proc = run_cli("sweep", "--plot", png, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "3 models of [784, 30, 10]" in proc.stdout
    assert "30 epochs on 50000 training images" in proc.stdout
    assert png.stat().st_size > 10_000
    doc = json.loads(out.read_text())
    assert doc["eta"] == [0.025, 0.25, 2.5] and doc["lmbda"] == [5.0] * 3
    assert doc["diverged_epoch"] == [-1, -1, -1]
    cost = np.array(doc["training_cost"])
    accuracy = np.array(doc["evaluation_accuracy"])
    assert cost.shape == accuracy.shape == (3, 30)
    assert cost[0, -1] < cost[0, 0] / 2  # eta = 0.025: slow but steady
    assert accuracy[1, -1] > 0.95  # eta = 0.25: the book's choice
    assert cost[2, -10:].mean() > 2 * cost[1, -10:].mean()  # eta = 2.5: oscillates, high
    shown = ("eta", "lmbda", "batch_size", "training_cost", "evaluation_accuracy", "diverged_epoch")
    assert_table_matches(parse_table(proc.stdout), {k: np.asarray(doc[k]) for k in shown})


# --------------------------------------------------------------------------------------------
# sweep: bad usage (exit 2) and failures (exit 1)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--bogus"], ["--bogus"]),
        (["--eta", "0.1", "-1"], ["--eta", "> 0"]),
        (["--eta", "nan"], ["--eta"]),
        (["--lmbda", "-5"], ["--lmbda"]),
        (["--epochs", "0"], ["--epochs", ">= 1"]),
        (["--epochs", "2.5"], ["--epochs", "integer"]),
        (["--out", "result.txt"], ["--out", ".txt"]),
        (["--plot", "cost.jpg"], ["--plot", ".jpg"]),
        (["--monitor", "training_cost", "bogus"], ["--monitor", "bogus"]),
        (["--cost", "hinge"], ["--cost"]),
    ],
)
def test_bad_usage_exits_2_before_loading_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    # The data folder does not exist: exit 2, not 1, shows the arguments are checked first.
    code, out, err = run_main(capsys, "sweep", "--data", tmp_path / "absent", *args)
    assert_usage_error(code, err, *names)
    assert out == ""


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--sizes", "100", "10"], ["--sizes", "784 features"]),
        (["--sizes", "784", "10", "5"], ["--sizes", "output layer"]),
        (["--batch-size", "1000"], ["--batch-size", "larger than the training set"]),
        (["--train-size", "5000"], ["--train-size", "5000"]),
        (["--validation-size", "1200"], ["--validation-size", "1200"]),
    ],
)
def test_bad_arguments_found_by_sgdfast_exit_2(
    mnist_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    code, out, err = run_main(capsys, "sweep", "--data", mnist_dir, *QUICK, *args)
    assert_usage_error(code, err, *names)
    assert out == ""


def test_bad_usage_subprocess(tmp_path: Path) -> None:
    proc = run_cli("sweep", "--eta", "-1", "--data", tmp_path)
    assert_usage_error(proc.returncode, proc.stderr, "--eta")
    proc = run_cli("sweep", "--out", tmp_path / "result.xlsx", "--data", tmp_path)
    assert_usage_error(proc.returncode, proc.stderr, "--out", ".xlsx")


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys)
    assert_usage_error(code, err, "COMMAND")


def test_missing_data_exits_1_listing_the_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("sweep", "--data", empty, *QUICK)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("sgdfast: MNIST data not found")
    for name in MNIST_FILES:
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_cache_without_download(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "sweep", "--no-download", *QUICK)
    assert code == 1
    assert "cache folder" in err and "sgdfast data --download" in err
    assert "Traceback" not in err


def test_missing_output_folder_fails_before_training(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no" / "such" / "folder" / "r.npz"
    code, stdout, err = run_main(capsys, "sweep", "--data", mnist_dir, *QUICK, "--out", out)
    assert code == 1
    assert stdout == ""
    assert err.strip() == f"sgdfast: cannot write {out}: folder {out.parent} does not exist"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    args = ["sweep", "--data", str(tmp_path)]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    code, _, err = run_main(capsys, *args)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "DataNotFoundError" in err
    assert "sgdfast: MNIST data not found" in err


def test_unexpected_error_and_interrupt(
    mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine on fire")

    monkeypatch.setattr(cli, "sweep", broken)
    code, _, err = run_main(capsys, "sweep", "--data", mnist_dir, *QUICK)
    assert code == 1
    assert err.strip() == (
        "sgdfast: unexpected RuntimeError: engine on fire (run with --debug for the traceback)"
    )

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "sweep", interrupted)
    code, _, err = run_main(capsys, "sweep", "--data", mnist_dir, *QUICK)
    assert code == 130
    assert err.strip() == "sgdfast: interrupted"


# --------------------------------------------------------------------------------------------
# threshold
# --------------------------------------------------------------------------------------------

THRESHOLD_QUICK = [*QUICK[:4], "--sizes", "784", "10", "10", "--points", "5"]


def test_threshold_subprocess(mnist_dir: Path) -> None:
    proc = run_cli("threshold", "--data", mnist_dir, *THRESHOLD_QUICK)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"500 training images from {mnist_dir}"
    assert lines[1].startswith("Learning-rate threshold search: [784, 10, 10], λ = 5, m = 10")
    threshold = float(lines[2].split()[3])
    recommendation = float(lines[3].split()[3])
    assert recommendation == pytest.approx(threshold / 2, rel=1e-2)
    assert "bracket" in lines[4] and "refinement" in proc.stdout


def test_threshold_options_reach_the_search(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figure = tmp_path / "search.png"
    args = [*THRESHOLD_QUICK, "--safety-factor", "4", "--lmbda", "0", "--resolution", "0.5"]
    code, out, err = run_main(capsys, "threshold", "--data", mnist_dir, *args, "--plot", figure)
    assert code == 0, err
    assert out.endswith(f"plot: {figure}\n")
    assert figure.read_bytes().startswith(b"\x89PNG")
    assert "λ = 0, m = 10" in out and "threshold / 4" in out
    step = float(out.split("grid step ")[1].split("%")[0])
    assert 5 < step <= 50  # --resolution 0.5: a coarser grid than the default 5%


def test_threshold_not_found_exits_1(mnist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [*THRESHOLD_QUICK, "--start", "1e-3", "--factor", "1.01"]
    code, _, err = run_main(capsys, "threshold", "--data", mnist_dir, *args)
    assert code == 1
    assert err.startswith("sgdfast: no threshold found: the training cost decreases at every")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--factor", "1"], ["--factor", "> 1"]),
        (["--start", "0"], ["--start", "> 0"]),
        (["--points", "500"], ["--points", "mini-batches"]),
        (["--plot", "search.gif"], ["--plot", ".gif"]),
    ],
)
def test_threshold_bad_usage(
    mnist_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    code, _, err = run_main(capsys, "threshold", "--data", mnist_dir, *THRESHOLD_QUICK, *args)
    assert_usage_error(code, err, *names)


# --------------------------------------------------------------------------------------------
# plot
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small sweep saved in each format, by suffix."""
    from conftest import make_classification

    folder = tmp_path_factory.mktemp("saved")
    result = sgdfast.sweep(
        make_classification(80, 6, 3, seed=0),
        eta=[0.1, 1.0],
        epochs=3,
        evaluation_data=make_classification(30, 6, 3, seed=1),
        monitor=["training_cost", "evaluation_accuracy"],
    )
    paths = {}
    for suffix in (".npz", ".json", ".csv"):
        paths[suffix] = folder / f"result{suffix}"
        result.save(paths[suffix])
    return paths


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_plot_formats_and_monitor(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    out = tmp_path / "accuracy.svg"
    code, stdout, err = run_main(
        capsys, "plot", saved[suffix], "--monitor", "evaluation_accuracy", "-o", out
    )
    assert code == 0, err
    assert stdout == f"plot: {out}\n"
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_default_output_beside_the_result(
    saved: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = tmp_path / "mine.npz"
    result.write_bytes(saved[".npz"].read_bytes())
    code, stdout, err = run_main(capsys, "plot", result)
    assert code == 0, err
    assert stdout == f"plot: {tmp_path / 'mine.png'}\n"
    assert (tmp_path / "mine.png").stat().st_size > 1000


def test_plot_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    absent = tmp_path / "absent.npz"
    code, out, err = run_main(capsys, "plot", absent)
    assert (code, out) == (1, "")
    assert err.strip() == f"sgdfast: cannot read {absent}: No such file or directory"

    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    code, out, err = run_main(capsys, "plot", other)
    assert code == 1
    assert err.strip() == f"sgdfast: {other}: not an sgdfast result file"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["result.txt"], ["RESULT", ".txt"]),
        (["{npz}", "--out", "figure.jpg"], ["--out", ".jpg"]),
        (["{npz}", "--monitor", "training_accuracy"], ["--monitor", "training_accuracy"]),
        (["{npz}", "--monitor", "bogus"], ["--monitor", "bogus"]),
        ([], ["RESULT"]),
    ],
)
def test_plot_bad_usage(
    saved: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    code, out, err = run_main(capsys, "plot", *(a.format(npz=saved[".npz"]) for a in args))
    assert_usage_error(code, err, *names)
    assert out == ""


# --------------------------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------------------------


def test_bench_subprocess(mnist_dir: Path) -> None:
    proc = run_cli(
        "bench",
        "--short",
        "--samples",
        "300",
        "--models",
        "1",
        "2",
        "--dtype",
        "float32",
        "--data",
        mnist_dir,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"data: MNIST from {mnist_dir}"
    assert lines[1].startswith("machine: ") and "GFLOP/s" in lines[1]
    assert lines[2] == "workload: [784, 30, 10], m=10, λ=5, 300 samples per epoch"
    header = lines.index(next(line for line in lines if line.split()[:2] == ["K", "dtype"]))
    table_end = lines.index("", header)
    rows = [line.split() for line in lines[header + 2 : table_end]]
    assert [row[:3] for row in rows] == [
        ["1", "float32", "numpy"],
        ["1", "float32", "np-fused"],
        ["1", "float32", "1"],
        ["1", "float32", "all"],
        ["2", "float32", "np-fused"],
        ["2", "float32", "1"],
        ["2", "float32", "all"],
    ]
    assert all(float(row[3].replace(",", "")) > 0 for row in rows)


def test_bench_without_mnist_uses_random_pixels(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--short", "--samples", "100", "--models", "1", "--dtype", "float64"]
    code, out, err = run_main(capsys, "bench", *args)
    assert code == 0, err
    assert out.startswith("data: random pixels (MNIST not found)\n")
    assert "100 samples per epoch" in out


def test_bench_failures(
    mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(capsys, "bench", "--data", mnist_dir, "--samples", "5000")
    assert_usage_error(code, err, "--samples", "1199 training images")
    code, out, err = run_main(capsys, "bench", "--data", tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith("sgdfast: MNIST data not found")
    code, _, err = run_main(capsys, "bench", "--models", "0")
    assert_usage_error(code, err, "--models")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def test_data_found_subprocess(mnist_dir: Path, isolated: Path) -> None:
    proc = run_cli("data", "--data", mnist_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"MNIST:         {mnist_dir}",
        f"cache folder:  {isolated}",
        "SGDFAST_DATA:  not set",
    ]


def test_data_from_env_var(
    mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(data.ENV_VAR, str(mnist_dir))
    code, out, _ = run_main(capsys, "data")
    assert code == 0
    assert f"MNIST:         {mnist_dir}" in out
    assert f"SGDFAST_DATA:  {str(mnist_dir)!r}" in out


def test_data_not_found(tmp_path: Path) -> None:
    proc = run_cli("data", "--data", tmp_path)
    assert proc.returncode == 1
    assert "MNIST:         not found" in proc.stdout
    assert proc.stderr.startswith(f"sgdfast: MNIST data not found: {tmp_path} lacks")
    assert "Traceback" not in proc.stderr


def test_data_verify_mismatch(mnist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "data", "--data", mnist_dir, "--verify")
    assert code == 1
    for name in MNIST_FILES:
        assert f"{name}.gz  " in out
    assert out.count("MISMATCH") == 4
    assert err.strip().startswith("sgdfast: 4 of 4 files differ")


@pytest.fixture
def tiny_is_mnist(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Make the published checksums those of the tiny files, and serve them as downloads."""
    files = tiny_mnist_files()
    table = {}
    for name in MNIST_FILES:
        gz = files[name + ".gz"]
        raw = gzip.decompress(gz)
        table[name] = MnistFile(
            name,
            len(gz),
            hashlib.sha256(gz).hexdigest(),
            len(raw),
            hashlib.sha256(raw).hexdigest(),
        )
    monkeypatch.setattr(data, "MNIST_FILES", table)

    def serve(url: str, dest: Path, timeout: float) -> None:
        dest.write_bytes(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(data, "_fetch", serve)
    return files


@pytest.mark.usefixtures("tiny_is_mnist")
def test_data_verify_ok(mnist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "data", "--data", mnist_dir, "--verify")
    assert code == 0, err
    assert out.count("  ok") == 4


def test_data_download(
    tiny_is_mnist: dict[str, bytes], isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(capsys, "data", "--download", "--verify")
    assert code == 0, err
    assert f"MNIST:         {isolated}" in out
    assert sorted(p.name for p in isolated.iterdir()) == sorted(tiny_is_mnist)
    assert err.count("sgdfast: downloading") == 4


# --------------------------------------------------------------------------------------------
# --help and --version
# --------------------------------------------------------------------------------------------


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"sgdfast {sgdfast.__version__}"


def test_module_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: sgdfast")
    for command in ("sweep", "threshold", "plot", "bench", "data"):
        assert f"    {command}" in proc.stdout


@pytest.mark.parametrize("command", ["sweep", "threshold", "plot", "bench", "data"])
def test_subcommand_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run_main(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: sgdfast {command}")
    assert "examples:" in out
    if command == "sweep":
        assert "(default: 0.025 0.25 2.5)" in out
        assert "(default: training_cost evaluation_accuracy)" in out
        assert "(default: None)" not in out and "(default: False)" not in out
