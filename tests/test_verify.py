"""Verification decisions, on recorded threadpoolctl data and timings."""

import subprocess
import sys
import time

import pytest

from blasbench import provenance
from blasbench.building import verify

PYPI = "/venv/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-32a4b2a6.so"
SYSTEM = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"


def blas(path, api="openblas", threads=2, layer="pthreads"):
    return {"user_api": "blas", "internal_api": api, "filepath": path, "num_threads": threads,
            "threading_layer": layer, "version": "0.3.21", "architecture": "Zen"}


def timing(seconds, cpu_per_wall):
    return {"seconds": seconds, "cpu_per_wall": cpu_per_wall, "gflops": 17.2 / seconds}


BLIS = "/opt/blis/lib/libblis.so.4"
BLIS_COMPANIONS = ("/opt/blis/lib/libblas.so.3", "/opt/lapack/lib/liblapack.so.3")


def test_one_openblas_passes_and_a_shadowing_wheel_is_named():
    assert verify.check_single_blas([blas(SYSTEM)]).ok
    check = verify.check_single_blas([blas(SYSTEM), blas(PYPI)])
    assert not check.ok and "PyPI wheel" in check.hint
    check = verify.check_single_blas([blas("/usr/lib/libmkl_rt.so", api="mkl")])
    assert not check.ok and "not linked against openblas" in check.hint
    assert not verify.check_single_blas([]).ok


def test_a_rival_blas_is_verified_for_what_it_is():
    assert verify.check_single_blas([blas("/usr/lib/libmkl_rt.so", api="mkl")], api="mkl").ok
    assert not verify.check_single_blas([blas(SYSTEM)], api="blis").ok
    # BLIS's modules also load its LAPACK companions; any other BLAS mapped beside them fails
    linked = [BLIS, *BLIS_COMPANIONS]
    assert verify.check_resolution(BLIS, {"numpy": linked, "scipy": linked}, linked, BLIS_COMPANIONS).ok
    assert not verify.check_resolution(BLIS, {"numpy": linked, "scipy": linked}, [*linked, SYSTEM], BLIS_COMPANIONS).ok
    assert not verify.check_resolution(BLIS, {"numpy": linked, "scipy": linked}, linked).ok
    # BLIS starts on one thread unless told: the hint says how to give it more
    check = verify.check_thread_count(1, "pthreads", None)
    if provenance.usable_cores() > 1:
        assert not check.ok and "BLIS_NUM_THREADS" in check.hint
    # MKL's sequential layer is a serial build
    assert verify.check_thread_count(1, "sequential").ok


def test_library_must_be_the_providers():
    assert verify.check_library(SYSTEM, SYSTEM).ok
    check = verify.check_library(PYPI, SYSTEM)
    assert not check.ok and "prebuilt numpy/scipy shadows the build" in check.hint


def test_modules_must_resolve_to_the_loaded_library():
    assert verify.check_resolution(SYSTEM, {"numpy": [SYSTEM], "scipy": [SYSTEM]}, [SYSTEM]).ok
    assert not verify.check_resolution(SYSTEM, {"numpy": [SYSTEM], "scipy": [PYPI]}, [SYSTEM, PYPI]).ok
    assert not verify.check_resolution(SYSTEM, {"numpy": [SYSTEM], "scipy": []}, [SYSTEM]).ok


def test_thread_count_follows_cores_explicit_limits_and_serial(monkeypatch):
    for variable in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(verify.provenance, "usable_cores", lambda: 4)
    assert verify.check_thread_count(4, "pthreads").ok
    assert not verify.check_thread_count(2, "pthreads").ok
    assert verify.check_thread_count(2, "pthreads", explicit=2).ok
    assert verify.check_thread_count(1, "disabled").ok
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    check = verify.check_thread_count(1, "pthreads")
    assert not check.ok and "OPENBLAS_NUM_THREADS=1 is set in the environment" in check.hint


def test_probe_needs_a_real_speedup_and_cpu_time():
    assert verify.check_probe(timing(1.0, 1.0), timing(0.52, 1.95), "pthreads", 2, 2).ok
    slow = verify.check_probe(timing(1.0, 1.0), timing(0.9, 1.1), "pthreads", 2, 2)
    assert not slow.ok and "do not run in parallel" in slow.hint
    ignored = verify.check_probe(timing(0.5, 1.9), timing(0.5, 1.9), "openmp", 2, 2)
    assert not ignored.ok and "limit did not take effect" in ignored.hint
    assert verify.check_probe(timing(1.0, 1.0), timing(0.98, 1.0), "disabled", 1, 2).ok
    assert not verify.check_probe(timing(1.0, 1.0), timing(0.5, 1.9), "disabled", 1, 2).ok
    assert verify.check_probe(timing(1.0, 1.0), timing(1.0, 1.0), "pthreads", 1, 1).ok


def test_a_one_thread_limit_on_several_cores_is_checked_not_passed_as_threads_running():
    """`verify --expect-threads 1` on 2 cores once PASSed "threads really run"; now it checks the limit holds."""
    held = verify.check_probe(timing(1.0, 1.0), timing(0.99, 1.0), "pthreads", 1, 2)
    assert held.ok and held.name == "timing probe: one thread, as limited"
    leaked = verify.check_probe(timing(1.0, 1.0), timing(0.55, 1.9), "pthreads", 1, 2)
    assert not leaked.ok and "did not take effect" in leaked.hint


def test_pypi_wheels_verified_as_installed_are_two_bundled_pools_not_a_shadowed_build():
    """With no build expected (`--setup installed`, `python -m blasbench.verify` alone), NumPy's and SciPy's
    PyPI wheels each bringing their own OpenBLAS are named for what they are and what that means for
    the numbers, a finding and not a failure (the most common install there is; the question is whether
    the BLAS is parallel); there is no build to reinstall. Where a build is expected it fails."""
    numpy_libs = "/venv/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-ff651d7f.so"
    scipy_libs = "/venv/lib/python3.11/site-packages/scipy.libs/libscipy_openblas-68440149.so"
    check = verify.check_single_blas([blas(numpy_libs), blas(scipy_libs)], built=False)
    assert check.ok and "each bundle their own OpenBLAS: two libraries, two thread pools" in check.hint
    assert "shadows the build" not in check.hint
    built = verify.check_single_blas([blas(numpy_libs), blas(scipy_libs)])
    assert not built.ok and "shadows the build" in built.hint
    printed = verify.format_checks({"checks": [vars(check), vars(built)]})
    assert printed.startswith("[NOTE] one BLAS, and it is openblas") and "       finding: NumPy's and SciPy's" in printed
    assert "[FAIL] one BLAS" in printed and "       likely cause: a second BLAS" in printed


def test_verify_of_pypis_numpy_and_scipy_as_installed_answers_whether_the_blas_is_parallel():
    """`python -m blasbench.verify` on PyPI's NumPy and SciPy (the test environment's): the two bundled pools are
    noted, and the verdict is the timing probe's (passed, or inconclusive on a busy machine), not a failure."""
    run = subprocess.run([sys.executable, "-m", "blasbench.verify", "--size", "512", "--wait-quiet", "10"],
                         capture_output=True, text=True)
    assert "[NOTE] one BLAS, and it is openblas" in run.stdout and "[NOTE] NumPy and SciPy resolve" in run.stdout
    assert "[FAIL] one BLAS" not in run.stdout and "[FAIL] NumPy and SciPy resolve" not in run.stdout
    if "[FAIL] timing probe" not in run.stdout:
        assert run.returncode == 0 and "verification passed" in run.stdout


def test_verify_module_fails_on_a_pypi_numpy():
    """The test environment's numpy is PyPI's, with its own bundled OpenBLAS: not our build."""
    run = subprocess.run([sys.executable, "-m", "blasbench.verify", "--library", SYSTEM, "--size", "256"],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "[FAIL] library is the provider's" in run.stdout
    assert "verification FAILED" in run.stdout


@pytest.fixture
def burners():
    """Two processes that keep two cores busy, as other users' work would."""
    started = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.5)
    yield [p.pid for p in started]
    for process in started:
        process.kill()
        process.wait()


def test_load_from_other_processes_is_measured_and_named(burners, capsys):
    load = provenance.wait_for_quiet(1.5)
    assert load["other_cores"] > 1.0
    assert {p["pid"] for p in load["top"]} & set(burners)
    assert "waiting for a quiet machine" in capsys.readouterr().err
    assert "python (pid" in provenance.describe_load(load)


def test_sweeps_stop_on_a_busy_machine_naming_the_override(burners):
    import argparse

    from blasbench import MachineBusy
    from blasbench.commands.options import ensure_quiet

    with pytest.raises(MachineBusy, match="pass --allow-busy to measure anyway"):
        ensure_quiet(argparse.Namespace(allow_busy=False, wait_quiet=1.0))


def test_verify_on_the_installed_setup_checks_this_environment_with_the_verifiers_checks(capfd):
    """`verify --setup installed` is `python -m blasbench.verify` (the two verifies are one command): this
    environment's NumPy and SciPy checked with no build, the status its exit code (0 passed, 3 machine busy)."""
    from blasbench.cli import main

    code = main(["verify", "--setup", "installed", "--wait-quiet", "0"])
    out = capfd.readouterr().out
    assert code in (0, 3), out
    assert "[PASS] thread count" in out and "timing probe" in out and "verification " in out
