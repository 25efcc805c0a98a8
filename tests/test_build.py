"""Cache keys and the wheelhouse's integrity; the real build (slow)."""

import json
import os
import subprocess
import sys
import venv

import pytest

from blasbench import build, pins, store
from test_providers import example_openblas


@pytest.fixture
def sdist(tmp_path):
    path = tmp_path / "numpy-9.9.9.tar.gz"
    path.write_bytes(b"pretend sdist")
    return path


def key(sdist, openblas=None, **env):
    return store.digest(build.build_inputs("numpy", "9.9.9", openblas or example_openblas(), sdist))


def test_key_changes_with_every_input_that_changes_the_binary(sdist, monkeypatch):
    base = key(sdist)
    assert key(sdist) == base
    assert key(sdist, example_openblas(variant="openmp", threading_layer="openmp")) != base
    assert key(sdist, example_openblas(version="0.3.26")) != base
    monkeypatch.setenv("CFLAGS", "-O1")
    assert key(sdist) != base
    monkeypatch.delenv("CFLAGS")
    monkeypatch.setattr(pins, "BUILD_TOOLS", pins.BUILD_TOOLS + ("extra==1",))
    assert key(sdist) != base
    monkeypatch.undo()
    sdist.write_bytes(b"another sdist")
    assert key(sdist) != base


def test_key_does_not_depend_on_where_the_cache_is(sdist, monkeypatch, tmp_path):
    base = key(sdist)
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "elsewhere"))
    assert key(sdist, example_openblas(pkg_config_dir="/elsewhere")) == base


def test_scipy_key_depends_on_the_numpy_it_was_built_against(sdist):
    numpy_a = build.BuiltWheel("numpy", "1", "a" * 64, sdist, {}, True, 0.0)
    numpy_b = build.BuiltWheel("numpy", "1", "b" * 64, sdist, {}, True, 0.0)
    inputs = [build.build_inputs("scipy", "1", example_openblas(), sdist, n) for n in (numpy_a, numpy_b)]
    assert store.digest(inputs[0]) != store.digest(inputs[1])


def test_only_complete_wheelhouse_entries_count(tmp_path, monkeypatch):
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path))
    k = "c" * 64
    entry = build.wheelhouse() / f"numpy-1.0-{k[:16]}"
    entry.mkdir(parents=True)
    wheel = entry / "numpy-1.0-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"wheel")
    assert build.find_cached("numpy", "1.0", k) is None  # no build.json: a killed build
    store.write_json(entry / "build.json", {"wheel": wheel.name, "wheel_sha256": store.file_sha256(wheel)})
    assert build.find_cached("numpy", "1.0", k).wheel == wheel
    wheel.write_bytes(b"truncated")
    assert build.find_cached("numpy", "1.0", k) is None  # damaged after the fact


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "result.json"
    store.write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        store.atomic_write_bytes(path, "not bytes")
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["result.json"]


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FC", "no-such-gfortran")
    with pytest.raises(build.UserError, match="No fortran compiler"):
        build.toolchain()


def test_unknown_version_is_a_clear_error():
    with pytest.raises(build.UserError, match="no sdist"):
        build.fetch_sdist("numpy", "0.0.1")


@pytest.mark.slow
def test_real_build_installs_and_verifies_in_a_fresh_environment(tmp_path):
    """Builds (or reuses) NumPy and SciPy against system OpenBLAS, installs them into a new venv
    and verifies there, as `nox -s build-openblas` does."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([python, "-m", "pip", "install", "-q", root], check=True)
    results = tmp_path / "reports"
    run = subprocess.run([python, "-m", "blasbench", "build", "--results", str(results)],
                         capture_output=True, text=True, cwd=tmp_path)
    print(run.stdout[-3000:], run.stderr[-3000:])
    assert run.returncode == 0
    result = json.loads((results / "build.json").read_text())
    assert result["verification"]["ok"]
    assert {w["package"] for w in result["wheels"]} == {"numpy", "scipy"}
    assert "passed" in (results / "build.md").read_text()
    # No prebuilt wheel in that environment: numpy and scipy come from the wheelhouse.
    listing = subprocess.run([python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True).stdout
    installed = {p["name"]: p["version"] for p in json.loads(listing)}
    assert installed["numpy"] == pins.NUMPY and installed["scipy"] == pins.SCIPY
    check = subprocess.run([python, "-c", "import numpy; print(numpy.__file__)"], capture_output=True, text=True)
    assert not os.path.exists(os.path.join(os.path.dirname(check.stdout.strip()) + ".libs"))
