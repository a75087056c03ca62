"""Datasets for sgdfast: validation of user arrays and loading of MNIST.

Two things live here:

* :class:`Dataset`, the ``(X, y)`` pair every sgdfast function trains on, and
  :func:`as_dataset`, which turns user input (a ``Dataset`` or an ``(X, y)`` pair of
  array-likes) into one, with error messages that name the offending argument.
  ``X`` is always float32, C-contiguous, 2-D and finite; ``y`` is always int64 and
  non-negative.
* :func:`load_mnist`, which reads the original MNIST IDX files (gzipped or not) or Nielsen's
  ``mnist.pkl.gz`` and returns the split used in Nielsen's book: the first 50,000 training
  images for training, the last 10,000 for validation, the 10,000 test images for testing.
  The files are looked for in the ``path`` argument, else in the folder (or ``.pkl.gz``
  file) named by the environment variable ``SGDFAST_DATA``, else in the per-user cache
  :func:`cache_dir`, which ``download=True`` fills from public mirrors, checking SHA-256.

This module uses only the standard library and numpy.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import operator
import os
import pickle
import struct
import sys
import tempfile
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ENV_VAR",
    "MNIST",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "MnistFile",
    "as_dataset",
    "cache_dir",
    "find_mnist",
    "load_mnist",
    "read_idx",
    "verify_mnist",
]

ENV_VAR = "SGDFAST_DATA"
"""Environment variable naming a folder with the MNIST files, or a ``mnist.pkl.gz`` file."""


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DataError(ValueError):
    """A data file is corrupt, truncated or of the wrong format.

    The message starts with the file's path and says what is wrong with it.
    """


class DataNotFoundError(FileNotFoundError):
    """MNIST could not be found (or downloaded).

    The message lists every place searched and says which files to put where.
    """


# --------------------------------------------------------------------------------------------
# Dataset and validation of user input
# --------------------------------------------------------------------------------------------


def _readonly(a: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``a`` (the caller's array itself stays writeable)."""
    view = a.view()
    view.flags.writeable = False
    return view


def _to_array(value: Any, what: str, name: str) -> np.ndarray:
    try:
        # numpy < 1.24 only warns on ragged nested lists (and makes an object array).
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return np.asarray(value)
    except (ValueError, TypeError, Warning) as e:
        raise ValueError(f"{name}: {what} could not be converted to a numpy array: {e}") from e


def _check_X(X: Any, name: str) -> np.ndarray:
    """Validate ``X`` and return it as a float32 C-contiguous array (copying only if needed)."""
    X = _to_array(X, "X", name)
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name}: X must have at least one sample and one feature, got shape {X.shape}"
        )
    if X.dtype.kind not in "iuf":
        raise TypeError(
            f"{name}: X must hold real numbers (integer or floating point), got dtype {X.dtype}"
        )
    if X.dtype.kind == "f" and not _all_finite(X):
        n_nan = int(np.count_nonzero(np.isnan(X)))
        n_inf = int(np.count_nonzero(np.isinf(X)))
        raise ValueError(
            f"{name}: X must be finite, found {n_nan} NaN and {n_inf} infinite value(s)"
        )
    with np.errstate(over="ignore"):  # overflow is reported below, not warned about
        out = np.ascontiguousarray(X, dtype=np.float32)
    if out.dtype != X.dtype and not _all_finite(out):
        n_big = int(np.count_nonzero(~np.isfinite(out)))
        raise ValueError(
            f"{name}: X must fit in float32, found {n_big} value(s) with magnitude above "
            f"{np.finfo(np.float32).max:.4g}"
        )
    return out


def _all_finite(a: np.ndarray) -> bool:
    # min and max propagate NaN and expose +-inf without allocating a boolean array.
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def _check_y(y: Any, n_samples: int, name: str) -> np.ndarray:
    """Validate ``y`` against ``n_samples`` rows of X and return it as int64."""
    y = _to_array(y, "y", name)
    if y.ndim != 1:
        raise ValueError(f"{name}: y must be 1-D (n_samples,), got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(
            f"{name}: X and y must have the same length, got {n_samples} samples in X "
            f"and {y.shape[0]} labels in y"
        )
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: y must hold integer class labels, got dtype {y.dtype}")
    if y.dtype.kind == "i" and y.min() < 0:
        i = int(np.argmax(y < 0))
        raise ValueError(
            f"{name}: y must hold non-negative class labels, found y[{i}] = {int(y[i])}"
        )
    int64_max = np.uint64(np.iinfo(np.int64).max)  # compare as uint64, not via float64
    if y.dtype == np.uint64 and y.max() > int64_max:
        i = int(np.argmax(y > int64_max))
        raise ValueError(f"{name}: class label y[{i}] = {int(y[i])} does not fit in int64")
    return np.ascontiguousarray(y, dtype=np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Samples ``X`` with integer class labels ``y``.

    Parameters
    ----------
    X : numpy.ndarray
        Shape ``(n_samples, n_features)``; stored as float32, C-contiguous, finite.
    y : numpy.ndarray
        Shape ``(n_samples,)``; stored as int64, non-negative.

    Notes
    -----
    Constructing ``Dataset(X, y)`` directly validates and converts like
    :meth:`from_arrays` (with ``"Dataset"`` as the name in error messages). The stored
    arrays are read-only views: they share memory with the input when no conversion was
    needed, but cannot be modified through the dataset. Equality is identity.

    Slicing selects samples and returns a new ``Dataset``: ``data[:1000]`` is the first
    1000 samples, ``data[-500:]`` the last 500. A slice with step 1 shares memory with
    ``data``; other steps copy. Only slices are accepted, and the result must be non-empty.
    """

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        X = _check_X(self.X, "Dataset")
        y = _check_y(self.y, X.shape[0], "Dataset")
        object.__setattr__(self, "X", _readonly(X))
        object.__setattr__(self, "y", _readonly(y))

    @classmethod
    def from_arrays(cls, X: Any, y: Any, *, name: str = "data") -> Dataset:
        """Validate and convert ``(X, y)`` into a ``Dataset``.

        Parameters
        ----------
        X : array_like
            Real numbers of shape ``(n_samples, n_features)``, all finite, at least one
            sample and one feature. Converted to float32 C-contiguous (copied only if needed).
        y : array_like
            Integer class labels of shape ``(n_samples,)``, all >= 0. Converted to int64.
        name : str
            Argument name that starts every error message.

        Returns
        -------
        Dataset

        Raises
        ------
        ValueError
            Wrong shape, empty, non-finite values, mismatched lengths, negative labels.
        TypeError
            X not real numeric (bool, complex, object, str), or y not integer.
        """
        X = _check_X(X, name)
        y = _check_y(y, X.shape[0], name)
        return cls._trusted(X, y)

    @classmethod
    def _trusted(cls, X: np.ndarray, y: np.ndarray) -> Dataset:
        """Build a Dataset from arrays already known to be valid, skipping the checks."""
        self = object.__new__(cls)
        object.__setattr__(self, "X", _readonly(X))
        object.__setattr__(self, "y", _readonly(y))
        return self

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features (columns of ``X``)."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        """Largest label plus one."""
        return int(self.y.max()) + 1

    def __getitem__(self, key: slice) -> Dataset:
        if not isinstance(key, slice):
            raise TypeError(
                f"Dataset indices must be slices such as data[:1000], got {type(key).__name__}"
            )
        X = np.ascontiguousarray(self.X[key])
        if X.shape[0] == 0:
            raise ValueError(f"Dataset slice {key} of a dataset with {len(self)} samples is empty")
        return Dataset._trusted(X, np.ascontiguousarray(self.y[key]))

    def __reduce__(self) -> tuple[Any, tuple[np.ndarray, np.ndarray]]:
        # Unpickled arrays are writeable; _trusted makes them read-only again.
        return (Dataset._trusted, (self.X, self.y))

    def __repr__(self) -> str:
        return f"Dataset(n={len(self)}, n_features={self.n_features}, n_classes={self.n_classes})"


def as_dataset(data: Any, *, name: str) -> Dataset:
    """Return ``data`` as a validated :class:`Dataset`.

    Parameters
    ----------
    data : Dataset or tuple or list
        A ``Dataset`` (returned as is) or a pair ``(X, y)`` of array-likes, validated and
        converted as in :meth:`Dataset.from_arrays`.
    name : str
        Argument name that starts every error message, e.g. ``"training_data"``.

    Returns
    -------
    Dataset

    Raises
    ------
    TypeError
        ``data`` is neither a Dataset nor a pair, or the arrays have the wrong dtype.
    ValueError
        The arrays have the wrong shape or values (see :meth:`Dataset.from_arrays`).
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise TypeError(
                f"{name}: expected a Dataset or an (X, y) pair, "
                f"got a {type(data).__name__} of length {len(data)}"
            )
        return Dataset.from_arrays(data[0], data[1], name=name)
    raise TypeError(f"{name}: expected a Dataset or an (X, y) pair, got {type(data).__name__}")


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UBYTE = 0x08
_IDX_LABELS = 0x00000801
_IDX_IMAGES = 0x00000803


def _gunzip(buf: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(buf)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip stream ({e})") from e


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an MNIST IDX file of unsigned bytes, gzip-compressed or raw.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is detected from the content; a file named ``*.gz``
        that holds a raw IDX file (as some browsers save them) is also accepted.

    Returns
    -------
    numpy.ndarray
        Read-only uint8 array: 1-D ``(n,)`` for a label file (magic ``0x00000801``), 3-D
        ``(n, rows, cols)`` for an image file (magic ``0x00000803``).

    Raises
    ------
    DataError
        Not a gzip file, corrupt gzip stream, bad magic number, unsupported data type,
        truncated file or trailing bytes. The message names the file.
    OSError
        The file cannot be read (e.g. FileNotFoundError).
    """
    path = Path(path)
    buf = path.read_bytes()
    gz = ""
    if buf[:2] == _GZIP_MAGIC:
        buf = _gunzip(buf, path)
        gz = " after decompression"
    elif path.suffix == ".gz" and buf[:2] != b"\x00\x00":
        raise DataError(
            f"{path}: not a gzip file (starts with {buf[:2].hex(' ')!r}, expected '1f 8b')"
        )
    if len(buf) < 4:
        raise DataError(
            f"{path}: truncated header: expected at least 4 bytes{gz}, found {len(buf)}"
        )
    magic = struct.unpack(">I", buf[:4])[0]
    if buf[0] != 0 or buf[1] != 0:
        raise DataError(
            f"{path}: bad magic number 0x{magic:08X}, expected 0x{_IDX_LABELS:08X} (labels) "
            f"or 0x{_IDX_IMAGES:08X} (images); not an IDX file"
        )
    if buf[2] != _IDX_UBYTE:
        raise DataError(
            f"{path}: unsupported IDX data type code 0x{buf[2]:02X} "
            f"(magic 0x{magic:08X}); only 0x08 (unsigned byte) is supported"
        )
    if magic not in (_IDX_LABELS, _IDX_IMAGES):
        raise DataError(
            f"{path}: bad magic number 0x{magic:08X}, expected 0x{_IDX_LABELS:08X} (labels) "
            f"or 0x{_IDX_IMAGES:08X} (images)"
        )
    ndim = buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(f"{path}: truncated header: expected {header} bytes{gz}, found {len(buf)}")
    shape = struct.unpack(f">{ndim}I", buf[4:header])
    count = 1
    for d in shape:
        count *= d
    expected = header + count
    if len(buf) < expected:
        raise DataError(
            f"{path}: truncated: expected {expected} bytes{gz} (header {header} + data "
            f"{'x'.join(map(str, shape))} = {count}), found {len(buf)}"
        )
    if len(buf) > expected:
        raise DataError(
            f"{path}: {len(buf) - expected} trailing byte(s): expected {expected} bytes{gz} "
            f"for shape {shape}, found {len(buf)}"
        )
    return np.frombuffer(buf, dtype=np.uint8, count=count, offset=header).reshape(shape)


# --------------------------------------------------------------------------------------------
# MNIST files, checksums, mirrors
# --------------------------------------------------------------------------------------------


class MnistFile(NamedTuple):
    """One of the four original MNIST files, with sizes and SHA-256 digests."""

    name: str
    """File name without ``.gz``."""
    gz_size: int
    gz_sha256: str
    raw_size: int
    raw_sha256: str


# The .gz digests were computed from copies whose md5s match the published originals
# (train-images f68b3c2d..., train-labels d53e105e..., t10k-images 9fb629c4..., t10k-labels
# ec29112d...), as were the uncompressed contents' md5s.
MNIST_FILES: MappingProxyType[str, MnistFile] = MappingProxyType(
    {
        f.name: f
        for f in (
            MnistFile(
                "train-images-idx3-ubyte",
                9912422,
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                47040016,
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            MnistFile(
                "train-labels-idx1-ubyte",
                28881,
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                60008,
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            MnistFile(
                "t10k-images-idx3-ubyte",
                1648877,
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                7840016,
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            MnistFile(
                "t10k-labels-idx1-ubyte",
                4542,
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                10008,
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        )
    }
)
"""The four MNIST files by name (without ``.gz``)."""

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
"""Base URLs tried in order by the download; each serves ``<name>.gz``."""

_TRAIN_IMAGES = "train-images-idx3-ubyte"
_TRAIN_LABELS = "train-labels-idx1-ubyte"
_TEST_IMAGES = "t10k-images-idx3-ubyte"
_TEST_LABELS = "t10k-labels-idx1-ubyte"
_NAMES = (_TRAIN_IMAGES, _TRAIN_LABELS, _TEST_IMAGES, _TEST_LABELS)
_DOWNLOAD_TIMEOUT_S = 30.0
_PICKLE_SUFFIXES = (".pkl", ".pkl.gz", ".pickle", ".pickle.gz")


def cache_dir() -> Path:
    """Per-user folder where :func:`load_mnist` caches downloaded MNIST files.

    Returns
    -------
    pathlib.Path
        ``$XDG_CACHE_HOME/sgdfast/mnist``, or ``~/.cache/sgdfast/mnist`` when
        ``XDG_CACHE_HOME`` is unset or relative; on Windows
        ``%LOCALAPPDATA%\\sgdfast\\mnist``. The folder may not exist yet.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):
            base = str(Path.home() / ".cache")
    return Path(base) / "sgdfast" / "mnist"


def _file_digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def verify_mnist(folder: str | os.PathLike[str]) -> dict[str, bool]:
    """Check the MNIST files present in ``folder`` against the published checksums.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder holding some or all of the four MNIST files, gzipped or not.

    Returns
    -------
    dict of str to bool
        For each MNIST file present (``NAME.gz`` or uncompressed ``NAME``; files absent are
        left out), whether its size and SHA-256 match the original.

    Raises
    ------
    NotADirectoryError
        ``folder`` is not an existing folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not an existing folder")
    result: dict[str, bool] = {}
    for f in MNIST_FILES.values():
        for fname, size, sha in (
            (f.name + ".gz", f.gz_size, f.gz_sha256),
            (f.name, f.raw_size, f.raw_sha256),
        ):
            p = folder / fname
            if p.is_file():
                result[fname] = _file_digest(p) == (size, sha)
    return result


def _fetch(url: str, dest: Path, timeout: float) -> None:
    """Download ``url`` into the file ``dest`` (tests replace this function)."""
    request = urllib.request.Request(url, headers={"User-Agent": "sgdfast"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)


def _download(folder: Path, names: list[str]) -> None:
    """Fetch ``NAME.gz`` for each name into ``folder``, checking size and SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        entry = MNIST_FILES[name]
        fname = name + ".gz"
        errors = []
        for mirror in MNIST_MIRRORS:
            url = mirror + fname
            fd, tmp_name = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=folder)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                print(f"sgdfast: downloading {url}", file=sys.stderr)
                _fetch(url, tmp, _DOWNLOAD_TIMEOUT_S)
                size, sha = _file_digest(tmp)
                if (size, sha) != (entry.gz_size, entry.gz_sha256):
                    raise DataError(
                        f"{url}: checksum mismatch: expected {entry.gz_size} bytes with "
                        f"SHA-256 {entry.gz_sha256}, got {size} bytes with SHA-256 {sha}"
                    )
                os.replace(tmp, folder / fname)
                break
            except (OSError, ValueError, http.client.HTTPException) as e:
                # URLError, timeouts and socket errors are OSErrors; DataError is a ValueError.
                errors.append(f"{url}: {type(e).__name__}: {e}")
            finally:
                tmp.unlink(missing_ok=True)
        else:
            tried = "\n".join(f"  {e}" for e in errors)
            raise DataNotFoundError(
                _not_found_message(
                    f"could not download {fname}; each mirror failed:\n{tried}",
                    [(folder, "cache folder")],
                )
            )


# --------------------------------------------------------------------------------------------
# Finding and loading MNIST
# --------------------------------------------------------------------------------------------


class MNIST(NamedTuple):
    """MNIST split as in Nielsen's book: ``train``, ``validation`` and ``test`` datasets."""

    train: Dataset
    validation: Dataset
    test: Dataset


def _not_found_message(problem: str, searched: list[tuple[Path, str]]) -> str:
    where = "\n".join(f"  {p}  ({why})" for p, why in searched)
    files = "\n".join(f"  {name}.gz" for name in _NAMES)
    env = os.environ.get(ENV_VAR)
    env_state = f"currently {env!r}" if env else "currently not set"
    return (
        f"MNIST data not found: {problem}\n"
        f"Searched:\n{where}\n"
        f"Put these four files (gzipped as listed, or uncompressed without .gz) into "
        f"that folder:\n{files}\n"
        f"or point load_mnist(path=...) or the environment variable {ENV_VAR} "
        f"({env_state}) at a folder holding them, or at Nielsen's mnist.pkl.gz.\n"
        f"When online, load_mnist(download=True) fetches them into the cache folder "
        f"{cache_dir()} (used when neither path nor {ENV_VAR} is given)."
    )


def _pick_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / (name + ".gz"), folder / name):
        if candidate.is_file():
            return candidate
    return None


def _missing(folder: Path) -> list[str]:
    return [name for name in _NAMES if _pick_file(folder, name) is None]


def _is_pickle(path: Path) -> bool:
    return path.name.lower().endswith(_PICKLE_SUFFIXES)


def _source(path: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """Return where MNIST is looked for, and why there (without checking it exists)."""
    if path is not None:
        return Path(path).expanduser(), "path argument"
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), f"environment variable {ENV_VAR}"
    return cache_dir(), "cache folder"


def _locate(path: str | os.PathLike[str] | None, download: bool) -> Path:
    """Return the folder or pickle file to load from, downloading into the cache if allowed."""
    where, why = _source(path)
    searched = [(where, why)]
    if why == "cache folder":
        missing = _missing(where) if where.is_dir() else list(_NAMES)
        if missing:
            if not download:
                raise DataNotFoundError(
                    _not_found_message(f"missing {', '.join(missing)} (download=False)", searched)
                )
            _download(where, missing)
        return where
    if not where.exists():
        raise DataNotFoundError(_not_found_message(f"{where} does not exist", searched))
    if where.is_file():
        if _is_pickle(where):
            return where
        raise DataNotFoundError(
            _not_found_message(
                f"{where} is a file, expected a folder holding the four MNIST files "
                f"or a .pkl.gz file",
                searched,
            )
        )
    missing = _missing(where)
    if missing:
        raise DataNotFoundError(_not_found_message(f"{where} lacks {', '.join(missing)}", searched))
    return where


def find_mnist(path: str | os.PathLike[str] | None = None) -> Path | None:
    """Return where :func:`load_mnist` would load MNIST from, without loading or downloading.

    Parameters
    ----------
    path : str or os.PathLike, optional
        As for :func:`load_mnist`.

    Returns
    -------
    pathlib.Path or None
        The folder holding the four files, or the ``.pkl.gz`` file; ``None`` if the data is
        not there (``load_mnist(path, download=False)`` would raise DataNotFoundError).
    """
    try:
        return _locate(path, download=False)
    except DataNotFoundError:
        return None


def _pixels_to_X(images: np.ndarray) -> np.ndarray:
    out = np.empty((images.shape[0], images.shape[1] * images.shape[2]), dtype=np.float32)
    # dtype forces the float32 loop (numpy 1.x value-based casting would pick float16).
    np.divide(images.reshape(out.shape), 255, out=out, dtype=np.float32)
    return out


def _read_pair(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check an image file and its label file; return (X, y)."""
    images_path = _pick_file(folder, images_name)
    labels_path = _pick_file(folder, labels_name)
    assert images_path is not None and labels_path is not None  # checked by _locate
    images = read_idx(images_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected an image file (3-D), got shape {images.shape}")
    if images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected 28x28 images, got {images.shape[1]}x{images.shape[2]}"
        )
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected a label file (1-D), got shape {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels"
        )
    if images.shape[0] == 0:
        raise DataError(f"{images_path}: holds no images")
    if labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise DataError(f"{labels_path}: labels must be 0..9, found {labels[i]} at index {i}")
    return _pixels_to_X(images), labels.astype(np.int64)


def _load_idx_folder(folder: Path, validation_size: int) -> MNIST:
    X, y = _read_pair(folder, _TRAIN_IMAGES, _TRAIN_LABELS)
    n_train = X.shape[0] - validation_size
    if n_train < 1:
        raise ValueError(
            f"validation_size={validation_size} must be less than the number of training "
            f"images ({X.shape[0]}) in {_pick_file(folder, _TRAIN_IMAGES)}"
        )
    X_test, y_test = _read_pair(folder, _TEST_IMAGES, _TEST_LABELS)
    return MNIST(
        Dataset._trusted(X[:n_train], y[:n_train]),
        Dataset._trusted(X[n_train:], y[n_train:]),
        Dataset._trusted(X_test, y_test),
    )


def _load_pickle(path: Path) -> MNIST:
    """Load Nielsen's mnist.pkl.gz: ((X, y) training, (X, y) validation, (X, y) test)."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == _GZIP_MAGIC
    try:
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as f:
            obj = pickle.load(f, encoding="latin1")
    except Exception as e:  # unpickling can fail in many ways; all mean a bad file
        raise DataError(f"{path}: cannot unpickle: {type(e).__name__}: {e}") from e
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3):
        raise DataError(
            f"{path}: expected a pickled 3-tuple (training, validation, test), "
            f"got {type(obj).__name__}"
        )
    parts = []
    for part, value in zip(("training", "validation", "test"), obj):
        try:
            data = as_dataset(value, name=f"{part} set")
        except (TypeError, ValueError) as e:
            raise DataError(f"{path}: {e}") from e
        if data.n_features != 784:
            raise DataError(
                f"{path}: {part} set: expected 784 features (28x28), got {data.n_features}"
            )
        if data.n_classes > 10:
            raise DataError(f"{path}: {part} set: labels must be 0..9, found {data.n_classes - 1}")
        parts.append(data)
    return MNIST(*parts)


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    validation_size: int = 10_000,
) -> MNIST:
    """Load MNIST, split into training, validation and test sets as in Nielsen's book.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the four MNIST files ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each gzipped (``NAME.gz``, preferred if both exist) or
        not; or the path of Nielsen's ``mnist.pkl.gz``. If not given, the environment
        variable ``SGDFAST_DATA`` (a folder or a ``.pkl.gz`` file) is used, and if that is
        not set either, the per-user cache :func:`cache_dir`. An explicit ``path`` or
        ``SGDFAST_DATA`` that does not hold the data is an error; the cache is then not
        consulted.
    download : bool
        When the cache folder is used and files are missing, download them from
        :data:`MNIST_MIRRORS`, checking their SHA-256 against :data:`MNIST_FILES`. Never
        downloads into ``path`` or ``SGDFAST_DATA``.
    validation_size : int
        Number of images, taken from the end of the 60,000 training images, that form the
        validation set; the rest form the training set. Must be in [1, 59999] and smaller
        than the number of training images in the files. Ignored for a ``.pkl.gz`` file,
        which holds its own split (50,000 / 10,000 / 10,000), but still checked.

    Returns
    -------
    MNIST
        ``(train, validation, test)`` datasets; ``X`` holds pixel / 255 as float32 of shape
        ``(n, 784)``, ``y`` the digits 0..9 as int64. With the defaults the sizes are
        50,000, 10,000 and 10,000. (Nielsen's ``mnist.pkl.gz`` stores pixel / 256, and
        those values are returned unchanged.)

    Raises
    ------
    DataNotFoundError
        The data is not where it was looked for and could not be downloaded; the message
        says which files to put where.
    DataError
        A file is corrupt or inconsistent; the message names it.
    ValueError
        ``validation_size`` out of range.

    Notes
    -----
    Loading a pickle file can run arbitrary code: only load ``.pkl.gz`` files you trust.
    """
    try:
        v = operator.index(validation_size)
    except TypeError:
        raise TypeError(
            f"validation_size must be an integer, got {type(validation_size).__name__}"
        ) from None
    if isinstance(validation_size, bool) or not 1 <= v <= 59_999:
        raise ValueError(f"validation_size must be in [1, 59999], got {validation_size!r}")
    where = _locate(path, download)
    if where.is_file():
        return _load_pickle(where)
    return _load_idx_folder(where, v)
