"""Tests for sgdfast.data: Dataset validation, IDX reading, finding/downloading/loading MNIST.

No test touches the network or the user's cache: an autouse fixture points the cache at a
temporary folder, unsets SGDFAST_DATA and replaces the downloader with one that fails.
The test on the real MNIST files runs when SGDFAST_DATA names a folder holding them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import re
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from sgdfast import data
from sgdfast.data import (
    MNIST,
    MNIST_FILES,
    MNIST_MIRRORS,
    DataError,
    DataNotFoundError,
    Dataset,
    MnistFile,
    as_dataset,
    cache_dir,
    find_mnist,
    load_mnist,
    read_idx,
    verify_mnist,
)

REAL_DATA = os.environ.get("SGDFAST_DATA")  # captured before the fixture below unsets it
NAMES = list(MNIST_FILES)
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = NAMES


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def idx_bytes(arr: np.ndarray, *, dtype_code: int = 0x08) -> bytes:
    """Encode a uint8 array as an IDX file."""
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, dtype_code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def write_file(path: Path, payload: bytes, *, gz: bool) -> Path:
    """Write ``payload`` to ``path`` (gzip-compressed, with ``.gz`` appended, if ``gz``)."""
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload, mtime=0))
    else:
        path.write_bytes(payload)
    return path


class Tiny:
    """A tiny fake MNIST: random pixels and labels, written as IDX files."""

    def __init__(self, n_train: int = 20, n_test: int = 6, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.train_images = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
        self.train_images[0, 0, 0] = 255  # make sure 0 and 255 both occur
        self.train_images[0, 0, 1] = 0
        self.train_labels = rng.integers(0, 10, n_train, dtype=np.uint8)
        self.test_images = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
        self.test_labels = rng.integers(0, 10, n_test, dtype=np.uint8)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            TRAIN_IMAGES: self.train_images,
            TRAIN_LABELS: self.train_labels,
            TEST_IMAGES: self.test_images,
            TEST_LABELS: self.test_labels,
        }

    def write(self, folder: Path, *, gz: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, arr in self.arrays().items():
            write_file(folder / name, idx_bytes(arr), gz=gz)
        return folder

    def gz_bytes(self) -> dict[str, bytes]:
        return {name: gzip.compress(idx_bytes(arr), mtime=0) for name, arr in self.arrays().items()}

    def checksum_table(self) -> dict[str, MnistFile]:
        """An MNIST_FILES replacement describing these tiny files."""
        table = {}
        for name, arr in self.arrays().items():
            raw = idx_bytes(arr)
            gz = gzip.compress(raw, mtime=0)
            table[name] = MnistFile(
                name,
                len(gz),
                hashlib.sha256(gz).hexdigest(),
                len(raw),
                hashlib.sha256(raw).hexdigest(),
            )
        return table


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Unset SGDFAST_DATA, point the cache into tmp_path, forbid network access."""
    monkeypatch.delenv("SGDFAST_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "xdg-cache"))

    def no_network(url: str, dest: Path, timeout: float) -> None:
        raise AssertionError(f"test tried to download {url}")

    monkeypatch.setattr(data, "_fetch", no_network)
    return tmp_path / "xdg-cache" / "sgdfast" / "mnist"


@pytest.fixture
def tiny() -> Tiny:
    return Tiny()


def check_split(m: MNIST, tiny: Tiny, validation_size: int) -> None:
    n = len(tiny.train_labels) - validation_size
    X_all = tiny.train_images.reshape(-1, 784).astype(np.float64) / 255
    expected = [
        (m.train, X_all[:n], tiny.train_labels[:n]),
        (m.validation, X_all[n:], tiny.train_labels[n:]),
        (m.test, tiny.test_images.reshape(-1, 784) / 255, tiny.test_labels),
    ]
    for ds, X, y in expected:
        assert isinstance(ds, Dataset)
        assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
        assert ds.X.flags.c_contiguous and ds.y.flags.c_contiguous
        assert ds.X.shape == (len(y), 784) and ds.y.shape == (len(y),)
        np.testing.assert_array_equal(ds.X, X.astype(np.float32))
        np.testing.assert_array_equal(ds.y, y)
    assert m.train.X.min() == 0.0 and m.train.X.max() == 1.0


# --------------------------------------------------------------------------------------------
# read_idx
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_read_idx_round_trip(tmp_path: Path, tiny: Tiny, gz: bool) -> None:
    images = write_file(tmp_path / "images", idx_bytes(tiny.train_images), gz=gz)
    labels = write_file(tmp_path / "labels", idx_bytes(tiny.train_labels), gz=gz)
    got_images = read_idx(images)
    got_labels = read_idx(str(labels))
    assert got_images.dtype == np.uint8 and got_images.shape == (20, 28, 28)
    np.testing.assert_array_equal(got_images, tiny.train_images)
    np.testing.assert_array_equal(got_labels, tiny.train_labels)


def test_read_idx_accepts_raw_content_named_gz(tmp_path: Path, tiny: Tiny) -> None:
    # Some browsers decompress on download but keep the .gz name.
    path = tmp_path / "labels.gz"
    path.write_bytes(idx_bytes(tiny.test_labels))
    np.testing.assert_array_equal(read_idx(path), tiny.test_labels)


def test_read_idx_missing_file_is_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


def test_data_errors_are_value_errors() -> None:
    assert issubclass(DataError, ValueError)
    assert issubclass(DataNotFoundError, FileNotFoundError)


# --------------------------------------------------------------------------------------------
# load_mnist from a folder of IDX files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_load_tiny_folder(tmp_path: Path, tiny: Tiny, gz: bool) -> None:
    folder = tiny.write(tmp_path / "mnist", gz=gz)
    m = load_mnist(folder, validation_size=5)
    assert isinstance(m, MNIST)
    assert (len(m.train), len(m.validation), len(m.test)) == (15, 5, 6)
    check_split(m, tiny, 5)
    # train and validation share one buffer and are read-only.
    assert not m.train.X.flags.writeable
    assert np.shares_memory(m.train.X.base, m.validation.X.base)


def test_load_mixed_gz_and_raw_prefers_gz(tmp_path: Path, tiny: Tiny) -> None:
    folder = tiny.write(tmp_path / "mnist", gz=True)
    (folder / f"{TRAIN_IMAGES}.gz").rename(folder / "tmp")
    write_file(folder / TRAIN_IMAGES, idx_bytes(tiny.train_images), gz=False)  # raw only
    # Both forms of the test labels: the .gz one (the true labels) must win.
    write_file(folder / TEST_LABELS, idx_bytes(9 - tiny.test_labels), gz=False)
    (folder / "tmp").unlink()
    m = load_mnist(folder, validation_size=1)
    check_split(m, tiny, 1)


@pytest.mark.parametrize(
    ("validation_size", "error", "match"),
    [
        (0, ValueError, r"validation_size must be in \[1, 59999\], got 0"),
        (-3, ValueError, r"validation_size must be in \[1, 59999\], got -3"),
        (60_000, ValueError, r"validation_size must be in \[1, 59999\], got 60000"),
        (True, ValueError, r"validation_size must be in \[1, 59999\], got True"),
        (2.5, TypeError, r"validation_size must be an integer, got float"),
        (20, ValueError, r"validation_size=20 must be less than the number of training images "),
    ],
)
def test_validation_size_checked(
    tmp_path: Path, tiny: Tiny, validation_size: object, error: type, match: str
) -> None:
    folder = tiny.write(tmp_path / "mnist")
    with pytest.raises(error, match=match):
        load_mnist(folder, validation_size=validation_size)  # type: ignore[arg-type]


def test_validation_size_accepts_numpy_int(tmp_path: Path, tiny: Tiny) -> None:
    m = load_mnist(tiny.write(tmp_path / "mnist"), validation_size=np.int64(19))
    assert (len(m.train), len(m.validation)) == (1, 19)


def _gz(payload: bytes) -> bytes:
    return gzip.compress(payload, mtime=0)


def _flip_middle(blob: bytes) -> bytes:
    b = bytearray(blob)
    for i in range(len(b) // 2, len(b) // 2 + 8):
        b[i] ^= 0xFF
    return bytes(b)


def _labels(tiny: Tiny) -> np.ndarray:
    return tiny.train_labels


# Each case: (file to corrupt, file name written, bytes, regex the message must contain).
CORRUPT_CASES = {
    "truncated data": (
        TRAIN_IMAGES,
        lambda t: _gz(idx_bytes(t.train_images)[:-100]),
        r"truncated: expected 15696 bytes after decompression .* found 15596",
    ),
    "truncated data raw": (
        TEST_LABELS,
        lambda t: idx_bytes(t.test_labels)[:-1],
        r"truncated: expected 14 bytes .* found 13",
    ),
    "truncated header": (
        TRAIN_IMAGES,
        lambda t: _gz(idx_bytes(t.train_images)[:10]),
        r"truncated header: expected 16 bytes after decompression, found 10",
    ),
    "very short file": (TRAIN_LABELS, lambda t: _gz(b"\x00\x00"), r"truncated header"),
    "bad magic": (
        TRAIN_LABELS,
        lambda t: _gz(b"\x12\x34" + idx_bytes(t.train_labels)[2:]),
        r"bad magic number 0x12340801",
    ),
    "bad number of dims": (
        TRAIN_LABELS,
        lambda t: _gz(idx_bytes(t.train_labels.reshape(4, 5))),
        r"bad magic number 0x00000802",
    ),
    "wrong dtype code": (
        TRAIN_IMAGES,
        lambda t: _gz(idx_bytes(t.train_images, dtype_code=0x0D)),
        r"unsupported IDX data type code 0x0D",
    ),
    "corrupt gzip": (
        TRAIN_IMAGES,
        lambda t: _flip_middle(_gz(idx_bytes(t.train_images))),
        r"corrupt gzip stream",
    ),
    "truncated gzip": (
        TEST_IMAGES,
        lambda t: _gz(idx_bytes(t.test_images))[:-20],
        r"corrupt gzip stream",
    ),
    "not gzip": (TEST_IMAGES, lambda t: b"<html>404 Not Found</html>", r"not a gzip file"),
    "trailing bytes": (
        TRAIN_LABELS,
        lambda t: _gz(idx_bytes(t.train_labels) + b"junk"),
        r"4 trailing byte\(s\): expected 28 bytes after decompression",
    ),
    "labels above 9": (
        TEST_LABELS,
        lambda t: _gz(idx_bytes(np.array([1, 2, 3, 10, 4, 5]))),
        r"labels must be 0\.\.9, found 10 at index 3",
    ),
    "images not 28x28": (
        TEST_IMAGES,
        lambda t: _gz(idx_bytes(np.zeros((6, 28, 27)))),
        r"expected 28x28 images, got 28x27",
    ),
    "labels in place of images": (
        TEST_IMAGES,
        lambda t: _gz(idx_bytes(t.test_labels)),
        r"expected an image file \(3-D\), got shape \(6,\)",
    ),
    "images in place of labels": (
        TEST_LABELS,
        lambda t: _gz(idx_bytes(t.test_images)),
        r"expected a label file \(1-D\)",
    ),
}

# Cases caught by load_mnist's checks of what read_idx returns, not by read_idx itself.
LOADER_CHECKS = {
    "labels above 9",
    "images not 28x28",
    "labels in place of images",
    "images in place of labels",
}


@pytest.mark.parametrize("case", list(CORRUPT_CASES))
def test_corrupt_file_raises_data_error(tmp_path: Path, tiny: Tiny, case: str) -> None:
    name, make, match = CORRUPT_CASES[case]
    folder = tiny.write(tmp_path / "mnist")
    bad = folder / f"{name}.gz"
    bad.write_bytes(make(tiny))
    with pytest.raises(DataError, match=match) as info:
        load_mnist(folder, validation_size=5)
    assert str(bad) in str(info.value)
    if case not in LOADER_CHECKS:  # a problem with the file itself: read_idx sees it too
        with pytest.raises(DataError, match=match):
            read_idx(bad)


def test_count_mismatch_names_both_files(tmp_path: Path, tiny: Tiny) -> None:
    folder = tiny.write(tmp_path / "mnist")
    labels = folder / f"{TRAIN_LABELS}.gz"
    labels.write_bytes(_gz(idx_bytes(tiny.train_labels[:-1])))
    with pytest.raises(DataError, match=r"holds 20 images but .* holds 19 labels") as info:
        load_mnist(folder, validation_size=5)
    assert str(folder / f"{TRAIN_IMAGES}.gz") in str(info.value)
    assert str(labels) in str(info.value)


def test_empty_image_file(tmp_path: Path, tiny: Tiny) -> None:
    folder = tiny.write(tmp_path / "mnist")
    (folder / f"{TEST_IMAGES}.gz").write_bytes(_gz(idx_bytes(np.zeros((0, 28, 28)))))
    (folder / f"{TEST_LABELS}.gz").write_bytes(_gz(idx_bytes(np.zeros(0))))
    with pytest.raises(DataError, match="holds no images"):
        load_mnist(folder, validation_size=5)


# --------------------------------------------------------------------------------------------
# Where the data is looked for
# --------------------------------------------------------------------------------------------


def test_missing_files_listed(tmp_path: Path, tiny: Tiny) -> None:
    folder = tiny.write(tmp_path / "mnist")
    (folder / f"{TRAIN_LABELS}.gz").unlink()
    (folder / f"{TEST_IMAGES}.gz").unlink()
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(folder, validation_size=5)
    msg = str(info.value)
    assert f"{folder} lacks {TRAIN_LABELS}, {TEST_IMAGES}" in msg
    for name in NAMES:  # the instructions list all four files
        assert f"{name}.gz" in msg
    assert "SGDFAST_DATA" in msg and "download=True" in msg


def test_explicit_path_missing_does_not_fall_back_to_cache(
    tmp_path: Path, tiny: Tiny, isolated: Path
) -> None:
    tiny.write(isolated)  # the cache is full...
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=re.escape(f"{missing} does not exist")) as info:
        load_mnist(missing, validation_size=5)  # ...but an explicit path wins
    assert "path argument" in str(info.value)
    assert find_mnist(missing) is None


def test_explicit_path_file_not_pickle(tmp_path: Path) -> None:
    f = tmp_path / "train-images-idx3-ubyte.gz"
    f.write_bytes(b"x")
    with pytest.raises(DataNotFoundError, match="is a file, expected a folder"):
        load_mnist(f)


def test_env_var_honoured(tmp_path: Path, tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tiny.write(tmp_path / "env-mnist")
    monkeypatch.setenv("SGDFAST_DATA", str(folder))
    check_split(load_mnist(validation_size=4), tiny, 4)
    assert find_mnist() == folder


def test_env_var_missing_is_error(
    tmp_path: Path, tiny: Tiny, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny.write(isolated)
    monkeypatch.setenv("SGDFAST_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataNotFoundError, match="environment variable SGDFAST_DATA"):
        load_mnist(validation_size=4)
    assert find_mnist() is None


def test_path_beats_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = Tiny(seed=1), Tiny(seed=2)
    monkeypatch.setenv("SGDFAST_DATA", str(a.write(tmp_path / "a")))
    folder_b = b.write(tmp_path / "b")
    check_split(load_mnist(folder_b, validation_size=3), b, 3)
    assert find_mnist(folder_b) == folder_b


def test_cache_used_when_nothing_else(tiny: Tiny, isolated: Path) -> None:
    assert cache_dir() == isolated
    tiny.write(isolated, gz=False)
    check_split(load_mnist(validation_size=2), tiny, 2)
    assert find_mnist() == isolated


def test_cache_dir_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "sgdfast" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # ignored, as the XDG spec says
    assert cache_dir() == Path.home() / ".cache" / "sgdfast" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "sgdfast" / "mnist"
    monkeypatch.setattr(data.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_dir() == tmp_path / "local" / "sgdfast" / "mnist"


# --------------------------------------------------------------------------------------------
# Download (with a fake _fetch; never the network)
# --------------------------------------------------------------------------------------------


class FakeFetch:
    """Serves ``payloads[name]`` for URLs on good mirrors, ``bad`` bytes or an error otherwise."""

    def __init__(
        self,
        payloads: dict[str, bytes],
        bad_mirrors: tuple[str, ...] = (),
        bad: bytes | Exception = b"garbage",
    ) -> None:
        self.payloads = payloads
        self.bad_mirrors = bad_mirrors
        self.bad = bad
        self.urls: list[str] = []

    def __call__(self, url: str, dest: Path, timeout: float) -> None:
        self.urls.append(url)
        assert timeout > 0 and dest.parent.is_dir()
        if url.startswith(self.bad_mirrors):
            if isinstance(self.bad, Exception):
                raise self.bad
            dest.write_bytes(self.bad)
            return
        dest.write_bytes(self.payloads[url.rsplit("/", 1)[1].removesuffix(".gz")])


@pytest.fixture
def served(tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The .gz bytes to serve: the real files if SGDFAST_DATA has them, else tiny ones."""
    if REAL_DATA and all((Path(REAL_DATA) / f"{n}.gz").is_file() for n in NAMES):
        return {n: (Path(REAL_DATA) / f"{n}.gz").read_bytes() for n in NAMES}
    monkeypatch.setattr(data, "MNIST_FILES", tiny.checksum_table())
    return tiny.gz_bytes()


def test_download_good_bytes(
    served: dict[str, bytes], isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch = FakeFetch(served)
    monkeypatch.setattr(data, "_fetch", fetch)
    m = load_mnist(validation_size=5)
    assert fetch.urls == [MNIST_MIRRORS[0] + f"{n}.gz" for n in NAMES]
    assert sorted(p.name for p in isolated.iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    assert all(verify_mnist(isolated).values())
    n_train = len(m.train) + len(m.validation)
    assert len(m.validation) == 5 and n_train in (20, 60_000)
    load_mnist(validation_size=5)  # second call: no download
    assert len(fetch.urls) == 4


def test_download_only_missing_files(
    tiny: Tiny, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "MNIST_FILES", tiny.checksum_table())
    tiny.write(isolated, gz=False)
    (isolated / TEST_LABELS).unlink()
    fetch = FakeFetch(tiny.gz_bytes())
    monkeypatch.setattr(data, "_fetch", fetch)
    check_split(load_mnist(validation_size=5), tiny, 5)
    assert fetch.urls == [MNIST_MIRRORS[0] + f"{TEST_LABELS}.gz"]


@pytest.mark.parametrize(
    "bad",
    [b"garbage", urllib.error.URLError("no route to host"), TimeoutError("timed out")],
    ids=["checksum", "urlerror", "timeout"],
)
def test_download_falls_back_to_next_mirror(
    tiny: Tiny, isolated: Path, monkeypatch: pytest.MonkeyPatch, bad: bytes | Exception
) -> None:
    monkeypatch.setattr(data, "MNIST_FILES", tiny.checksum_table())
    fetch = FakeFetch(tiny.gz_bytes(), bad_mirrors=(MNIST_MIRRORS[0],), bad=bad)
    monkeypatch.setattr(data, "_fetch", fetch)
    check_split(load_mnist(validation_size=5), tiny, 5)
    assert fetch.urls[:2] == [m + f"{TRAIN_IMAGES}.gz" for m in MNIST_MIRRORS]
    assert len(fetch.urls) == 8
    assert sorted(p.name for p in isolated.iterdir()) == sorted(f"{n}.gz" for n in NAMES)


def test_download_all_mirrors_bad(
    tiny: Tiny, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "MNIST_FILES", tiny.checksum_table())
    fetch = FakeFetch(tiny.gz_bytes(), bad_mirrors=MNIST_MIRRORS)
    monkeypatch.setattr(data, "_fetch", fetch)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(validation_size=5)
    msg = str(info.value)
    assert fetch.urls == [m + f"{TRAIN_IMAGES}.gz" for m in MNIST_MIRRORS]
    assert msg.count("checksum mismatch") == 2
    assert all(url in msg for url in fetch.urls)
    assert f"{TEST_LABELS}.gz" in msg and str(isolated) in msg  # the manual instructions
    assert list(isolated.iterdir()) == []  # no temporary files left behind


def test_download_false_does_not_fetch(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = FakeFetch({})
    monkeypatch.setattr(data, "_fetch", fetch)
    with pytest.raises(DataNotFoundError, match=r"download=False") as info:
        load_mnist(download=False)
    assert str(isolated) in str(info.value) and "cache folder" in str(info.value)
    assert fetch.urls == []
    assert find_mnist() is None


def test_no_download_into_explicit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = FakeFetch({})
    monkeypatch.setattr(data, "_fetch", fetch)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="lacks"):
        load_mnist(tmp_path / "empty", download=True)
    assert fetch.urls == []


# --------------------------------------------------------------------------------------------
# verify_mnist and the checksum table
# --------------------------------------------------------------------------------------------


def test_verify_mnist(tmp_path: Path, tiny: Tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "MNIST_FILES", tiny.checksum_table())
    folder = tiny.write(tmp_path / "mnist", gz=True)
    write_file(folder / TEST_LABELS, idx_bytes(tiny.test_labels), gz=False)
    (folder / f"{TRAIN_LABELS}.gz").unlink()
    (folder / f"{TEST_IMAGES}.gz").write_bytes(b"corrupt")
    assert verify_mnist(folder) == {
        f"{TRAIN_IMAGES}.gz": True,
        f"{TEST_IMAGES}.gz": False,
        f"{TEST_LABELS}.gz": True,
        TEST_LABELS: True,
    }
    with pytest.raises(NotADirectoryError):
        verify_mnist(tmp_path / "nope")


def test_checksum_table_shape() -> None:
    assert NAMES == [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]
    for name, f in MNIST_FILES.items():
        assert f.name == name
        assert re.fullmatch(r"[0-9a-f]{64}", f.gz_sha256)
        assert re.fullmatch(r"[0-9a-f]{64}", f.raw_sha256)
    assert MNIST_FILES[TRAIN_IMAGES].raw_size == 16 + 60_000 * 784
    assert MNIST_FILES[TEST_LABELS].raw_size == 8 + 10_000
    with pytest.raises(TypeError):
        MNIST_FILES["x"] = MNIST_FILES[TEST_LABELS]  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Nielsen's mnist.pkl.gz
# --------------------------------------------------------------------------------------------


def nielsen_tuple(seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = (rng.integers(0, 256, (n, 784)) / 256).astype(np.float32)
        return X, rng.integers(0, 10, n).astype(np.int64)

    return part(12), part(4), part(5)


@pytest.mark.parametrize("suffix", [".pkl.gz", ".pkl"])
def test_load_pickle(tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = nielsen_tuple()
    path = tmp_path / f"mnist{suffix}"
    opener = gzip.open if suffix.endswith(".gz") else open
    with opener(path, "wb") as f:
        pickle.dump(parts, f, protocol=2)
    for m in (load_mnist(path, validation_size=7), load_mnist(str(path))):
        assert [len(d) for d in m] == [12, 4, 5]  # validation_size ignored
        for ds, (X, y) in zip(m, parts):
            assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
            np.testing.assert_array_equal(ds.X, X)
            np.testing.assert_array_equal(ds.y, y)
    monkeypatch.setenv("SGDFAST_DATA", str(path))
    assert len(load_mnist().train) == 12
    assert find_mnist() == path


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ((1, 2), r"expected a pickled 3-tuple \(training, validation, test\), got tuple"),
        ("abc", r"expected a pickled 3-tuple"),
        (((np.zeros((2, 784)), np.zeros(2, np.int64)), None, None), r"validation set: expected"),
        (
            (
                (np.zeros((2, 784)), np.zeros(2, np.int64)),
                (np.zeros((2, 784)), np.zeros(2, np.int64)),
                (np.zeros((2, 783)), np.zeros(2, np.int64)),
            ),
            r"test set: expected 784 features \(28x28\), got 783",
        ),
        (
            (
                (np.zeros((2, 784)), np.array([3, 11])),
                (np.zeros((2, 784)), np.zeros(2, np.int64)),
                (np.zeros((2, 784)), np.zeros(2, np.int64)),
            ),
            r"training set: labels must be 0\.\.9, found 11",
        ),
    ],
)
def test_bad_pickle_structure(tmp_path: Path, obj: object, match: str) -> None:
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)
    with pytest.raises(DataError, match=match) as info:
        load_mnist(path)
    assert str(path) in str(info.value)


def test_unreadable_pickle(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(_flip_middle(gzip.compress(pickle.dumps(nielsen_tuple(), protocol=2))))
    with pytest.raises(DataError, match="cannot unpickle") as info:
        load_mnist(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------------------------
# Dataset, as_dataset
# --------------------------------------------------------------------------------------------

X3 = np.arange(12, dtype=np.float32).reshape(3, 4)
Y3 = np.array([0, 2, 1])


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (np.zeros(5), Y3, ValueError, r"X must be 2-D \(n_samples, n_features\), got shape \(5,\)"),
        (np.zeros((1, 2, 3)), Y3, ValueError, r"X must be 2-D .* got shape \(1, 2, 3\)"),
        (np.zeros((0, 4)), [], ValueError, r"X must have at least one sample and .* \(0, 4\)"),
        (np.zeros((3, 0)), Y3, ValueError, r"X must have at least one sample and .* \(3, 0\)"),
        (np.ones((3, 4), bool), Y3, TypeError, r"X must hold real numbers .* got dtype bool"),
        (np.ones((3, 4), complex), Y3, TypeError, r"X must hold real numbers .*complex128"),
        (np.ones((3, 4), object), Y3, TypeError, r"X must hold real numbers .*object"),
        ([["a", "b"], ["c", "d"]], [0, 1], TypeError, r"X must hold real numbers .*<U1"),
        ([[1.0, 2.0], [3.0]], [0, 1], ValueError, r"X could not be converted to a numpy array"),
        (
            np.array([[np.nan, 1], [np.inf, -np.inf], [np.nan, 0]]),
            Y3,
            ValueError,
            r"X must be finite, found 2 NaN and 2 infinite value\(s\)",
        ),
        (np.array([[1e300, 1], [-1e39, 0]]), [0, 1], ValueError, r"X must fit in float32, found 2"),
        (X3, Y3.reshape(3, 1), ValueError, r"y must be 1-D \(n_samples,\), got shape \(3, 1\)"),
        (
            X3,
            [0, 1],
            ValueError,
            r"X and y must have the same length, got 3 samples in X and 2 labels",
        ),
        (X3, [0.0, 1.0, 2.0], TypeError, r"y must hold integer class labels, got dtype float64"),
        (X3, [True, False, True], TypeError, r"y must hold integer class labels, got dtype bool"),
        (X3, ["0", "1", "2"], TypeError, r"y must hold integer class labels"),
        (X3, [0, -1, -5], ValueError, r"y must hold non-negative class labels, found y\[1\] = -1"),
        (
            X3,
            np.array([0, 2**63, 1], np.uint64),
            ValueError,
            r"class label y\[1\] = 9223372036854775808 does not fit",
        ),
    ],
)
def test_validation_errors(X: object, y: object, error: type, match: str) -> None:
    with pytest.raises(error, match="^training_data: " + match):
        as_dataset((X, y), name="training_data")
    with pytest.raises(error, match="^test: " + match):
        Dataset.from_arrays(X, y, name="test")
    with pytest.raises(error, match="^Dataset: " + match):
        Dataset(X, y)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (X3, r"^eval_data: expected a Dataset or an \(X, y\) pair, got ndarray"),
        (None, r"^eval_data: expected a Dataset or an \(X, y\) pair, got NoneType"),
        ((X3, Y3, Y3), r"^eval_data: .* got a tuple of length 3"),
        ([X3], r"^eval_data: .* got a list of length 1"),
        ({"X": X3, "y": Y3}, r"^eval_data: .* got dict"),
    ],
)
def test_as_dataset_wrong_type(data: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        as_dataset(data, name="eval_data")


def test_conversions() -> None:
    X = np.arange(24, dtype=np.float64).reshape(6, 4)[::2]  # float64, not contiguous
    y = np.array([3, 0, 1], dtype=np.int32)
    ds = as_dataset([X, y], name="d")
    assert ds.X.dtype == np.float32 and ds.X.flags.c_contiguous
    assert ds.y.dtype == np.int64 and ds.y.flags.c_contiguous
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    Xi = ds.X.T.copy().T  # float32 but Fortran order
    assert not Dataset.from_arrays(Xi, y).X.flags.f_contiguous
    lists = as_dataset(([[1, 2], [3, 4]], [1, 0]), name="d")  # nested lists and ints
    assert lists.X.dtype == np.float32 and lists.y.dtype == np.int64
    u8 = Dataset.from_arrays(np.full((2, 2), 255, np.uint8), np.array([1, 2], np.uint8))
    assert u8.X[0, 0] == 255.0 and u8.y.dtype == np.int64


def test_no_copy_when_already_normalised() -> None:
    X = np.ones((5, 3), np.float32)
    y = np.arange(5, dtype=np.int64)
    ds = Dataset.from_arrays(X, y)
    assert np.shares_memory(ds.X, X) and np.shares_memory(ds.y, y)
    assert not ds.X.flags.writeable and not ds.y.flags.writeable
    assert X.flags.writeable  # the caller's array is untouched
    with pytest.raises(ValueError, match="read-only"):
        ds.X[0, 0] = 2.0
    assert as_dataset(ds, name="x") is ds


def test_dataset_properties_and_slicing() -> None:
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    ds = Dataset(X, y)
    assert len(ds) == 10 and ds.n_features == 4 and ds.n_classes == 5
    assert repr(ds) == "Dataset(n=10, n_features=4, n_classes=5)"
    head = ds[:3]
    assert isinstance(head, Dataset) and len(head) == 3 and head.n_classes == 3
    assert np.shares_memory(head.X, X)
    np.testing.assert_array_equal(ds[-2:].y, [3, 4])
    every_other = ds[::2]
    assert every_other.X.flags.c_contiguous and len(every_other) == 5
    np.testing.assert_array_equal(every_other.X, X[::2])
    with pytest.raises(TypeError, match="Dataset indices must be slices"):
        ds[0]  # type: ignore[index]
    with pytest.raises(ValueError, match="is empty"):
        ds[5:5]
    with pytest.raises(AttributeError):
        ds.X = X  # type: ignore[misc]
    assert ds != Dataset(X, y)  # equality is identity (arrays are not compared)


def test_dataset_pickles_read_only() -> None:
    ds = Dataset(X3, Y3)
    back = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    assert not back.X.flags.writeable and back.y.dtype == np.int64


# --------------------------------------------------------------------------------------------
# The real MNIST files
# --------------------------------------------------------------------------------------------


def test_real_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    if not REAL_DATA:
        pytest.skip("set SGDFAST_DATA to a folder holding the four MNIST .gz files")
    monkeypatch.setenv("SGDFAST_DATA", REAL_DATA)
    train, validation, test = load_mnist()
    assert train.X.shape == (50_000, 784)
    assert validation.X.shape == (10_000, 784)
    assert test.X.shape == (10_000, 784)
    assert train.y.shape == (50_000,) and test.y.shape == (10_000,)
    assert train.y[:5].tolist() == [5, 0, 4, 1, 9]
    for ds in (train, validation, test):
        assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
        assert ds.X.min() == 0.0 and ds.X.max() == 1.0
        assert ds.n_classes == 10
    assert verify_mnist(REAL_DATA) == {f"{n}.gz": True for n in NAMES}
