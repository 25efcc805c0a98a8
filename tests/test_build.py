"""Cache keys and the wheelhouse's integrity; the real build (slow)."""

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from conftest import group, prebuild
from small_examples import EXAMPLES
from test_providers import example_openblas

from blasbench import pins, provenance, store
from blasbench.building import build
from blasbench.building.wheels import wheel_members
from blasbench.facts import EXPERIMENTS
from blasbench.results import kinds
from blasbench.setups import VARIANTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sdist(tmp_path):
    path = tmp_path / "numpy-9.9.9.tar.gz"
    path.write_bytes(b"pretend sdist")
    return path


def key(sdist, openblas=None, **env):
    return store.digest(build.build_inputs("numpy", "9.9.9", openblas or example_openblas(), sdist))


def test_the_background_build_is_the_default_setups_own_build():
    """The slow tier's compile beside the quick tests (conftest's prebuild, run in a subprocess) calls the
    product's build of the default setup: a function it names that was renamed fails only in that
    subprocess's log, and the tier then compiles NumPy and SciPy one test after another instead."""
    called = []
    prebuild(lambda library, numpy, scipy: called.append((library.provider, library.flavour, numpy, scipy)))
    assert called == [("system", "pthread", pins.NUMPY, pins.SCIPY)]


def test_key_changes_with_every_input_that_changes_the_binary(sdist, monkeypatch):
    base = key(sdist)
    assert key(sdist) == base
    assert key(sdist, example_openblas(flavour="openmp", threading_layer="openmp")) != base
    assert key(sdist, example_openblas(version="0.3.26")) != base
    monkeypatch.setenv("CFLAGS", "-O1")
    assert key(sdist) != base
    monkeypatch.delenv("CFLAGS")
    monkeypatch.setattr(pins, "BUILD_TOOLS", pins.BUILD_TOOLS + ("extra==1",))
    assert key(sdist) != base
    monkeypatch.undo()
    sdist.write_bytes(b"another sdist")
    assert key(sdist) != base


def test_a_recorded_build_recomputes_to_its_recorded_key():
    """Build keys survive renames: a recorded build's BLAS description, read through the migrations
    (its "variant" is now "flavour"), hashes to the very inputs and key its manifest recorded."""
    from blasbench.building.providers import BLASLibrary

    result = kinds.read_result(Path(ROOT) / "tests" / "data" / "epyc2-zen3-c" / "build.json", "build")
    blas = BLASLibrary(**{**result["blas"], "companions": tuple(result["blas"]["companions"])})
    numpy = result["wheels"][0]["manifest"]
    assert blas.key_material() == numpy["inputs"]["openblas"]
    assert store.digest(numpy["inputs"]) == numpy["key"] == result["wheels"][0]["key"]


def test_key_does_not_depend_on_where_the_cache_is(sdist, monkeypatch, tmp_path):
    base = key(sdist)
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "elsewhere"))
    assert key(sdist, example_openblas(pkg_config_dir="/elsewhere")) == base


def test_scipy_key_depends_on_the_numpy_it_was_built_against(sdist, tmp_path):
    numpy_a = build.BuiltWheel("numpy", "1", "a" * 64, sdist, {}, True, 0.0)
    numpy_b = build.BuiltWheel("numpy", "1", "b" * 64, sdist, {}, True, 0.0)
    scipy = tarball(tmp_path, "scipy-1", {"meson.build": "project('scipy')\n"})
    inputs = [build.build_inputs("scipy", "1", example_openblas(), scipy, n) for n in (numpy_a, numpy_b)]
    assert store.digest(inputs[0]) != store.digest(inputs[1])


HIGHS_LIBRARY = """highslib = library('highs',
                   highslib_srcs + highs_conf_file,
                   dependencies: _deps,
                   pic: true,
                   install: do_install)
"""


def tarball(tmp_path, name: str, files: dict[str, str]) -> Path:
    """An sdist ``name``.tar.gz holding ``files`` under its top directory ``name``."""
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_target_the_wheel_never_uses_is_not_built_by_default_and_named_in_the_key(tmp_path):
    """SciPy's HiGHS subproject library (SciPy compiles those sources into its own): made build_by_default false,
    the edit named in the key's inputs; an sdist without that definition, and NumPy, keep their keys as they were."""
    highs = "subprojects/highs/highs/meson.build"
    sdist = tarball(tmp_path, "scipy-9.9.9", {highs: HIGHS_LIBRARY})
    [target] = build.unused_targets("scipy", sdist)
    assert target.apply(HIGHS_LIBRARY).endswith("install: do_install, build_by_default: false)\n")
    inputs = build.build_inputs("scipy", "9.9.9", example_openblas(), sdist)
    assert inputs["unused_targets"] == ["highs-subproject-library"]
    other = tarball(tmp_path, "scipy-9.9.8", {highs: HIGHS_LIBRARY.replace("install: do_install", "install: true")})
    assert "unused_targets" not in build.build_inputs("scipy", "9.9.8", example_openblas(), other)
    assert build.unused_targets("numpy", sdist) == []


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
    mask = os.umask(0o022)
    try:
        store.write_json(path, {"a": 2})
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # readable like any file, not mkstemp's 0600


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("FC", "no-such-gfortran")
    with pytest.raises(build.UserError, match="No fortran compiler"):
        build.toolchain()
    with pytest.raises(build.UserError, match="FC=no-such-gfortran: no such compiler on this machine; fix FC or unset"):
        build.ensure_build_dependencies()


def test_unknown_version_is_a_clear_error():
    with pytest.raises(build.UserError, match="no sdist"):
        build.fetch_sdist("numpy", "0.0.1")


def new_virtualenv(directory: Path) -> str:
    """A new environment with pip; its python. By virtualenv, as nox's sessions are (noxfile.py says why)."""
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", str(directory)], check=True)
    return str(directory / "bin" / "python")


@pytest.fixture(scope="module")
def built_env(tmp_path_factory):
    """A new virtualenv with this project, into which `python -m blasbench build` installs
    NumPy and SciPy built (or reused from the wheelhouse) against system OpenBLAS."""
    tmp = tmp_path_factory.mktemp("built")
    python = new_virtualenv(tmp / "venv")
    subprocess.run([python, "-m", "pip", "install", "-q", ROOT, *group("network-tests")], check=True)
    results = tmp / "reports"
    run = subprocess.run([python, "-m", "blasbench", "build", "--results", str(results)],
                         capture_output=True, text=True, cwd=ROOT)
    print(run.stdout[-3000:], run.stderr[-3000:])
    assert run.returncode == 0
    return python, results


@pytest.mark.slow
def test_real_build_installs_and_verifies_in_a_fresh_environment(built_env):
    python, results = built_env
    result = json.loads((results / "build.json").read_text())
    assert result["verification"]["ok"], result["verification"]["checks"]
    assert {w["package"] for w in result["wheels"]} == {"numpy", "scipy"}
    assert "Verification **passed**" in (results / "build.md").read_text()
    # SciPy's unused HiGHS library was not compiled (its log is kept beside the wheelhouse, unless imported)
    scipy = next(w for w in result["wheels"] if w["package"] == "scipy")["manifest"]
    assert scipy["inputs"]["unused_targets"] == ["highs-subproject-library"]
    log = Path(scipy["log"])
    assert not log.exists() or "subprojects/highs/highs/libhighs.a" not in log.read_text()
    # No prebuilt wheel in that environment: numpy and scipy come from the wheelhouse.
    listing = subprocess.run([python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True).stdout
    installed = {p["name"]: p["version"] for p in json.loads(listing)}
    assert installed["numpy"] == pins.NUMPY and installed["scipy"] == pins.SCIPY
    for package in ("numpy", "scipy"):
        check = subprocess.run([python, "-c", f"import {package}, os; print(os.path.dirname({package}.__file__))"],
                               capture_output=True, text=True, check=True)
        assert not os.path.exists(check.stdout.strip() + ".libs"), f"{package} carries a bundled OpenBLAS"


@pytest.mark.slow
def test_second_build_reuses_the_wheelhouse_quickly(built_env):
    python, results = built_env
    started = time.monotonic()
    run = subprocess.run([python, "-m", "blasbench", "build", "--results", str(results)],
                         capture_output=True, text=True, cwd=ROOT)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    result = json.loads((results / "build.json").read_text())
    assert all(w["cached"] for w in result["wheels"])
    print(f"cached build-and-verify: {elapsed:.1f} s")


@pytest.mark.slow
def test_scaling_quick_end_to_end(built_env):
    """`nox -s scaling -- --quick` in the built environment: network tests, both sweeps, reports."""
    python, results = built_env
    run = subprocess.run([python, "-m", "blasbench", "scaling", "--quick", "--results", str(results)],
                         capture_output=True, text=True, cwd=ROOT)
    print(run.stdout[-3000:], run.stderr[-3000:])
    assert run.returncode == 0
    for name in ("index.md", "build.md", "profile.md", "scaling.md", "scaling.svg", "profile.json", "scaling.json"):
        assert (results / name).exists(), name
    scaling = json.loads((results / "scaling.json").read_text())
    assert not scaling["refused"]
    blas = [lib for lib in scaling["environment"]["threadpool_info"] if lib["user_api"] == "blas"]
    assert blas[0]["filepath"].startswith("/usr/lib/")  # the system OpenBLAS, not a bundled copy
    why = json.loads((results / "why.json").read_text())  # why scaling stops: every experiment, at quick sizes
    assert set(why["experiments"]) == set(EXPERIMENTS) and all(e["rows"] for e in why["experiments"].values())
    report = (results / "scaling.md").read_text()
    assert all(heading in report for heading in ("Idle BLAS threads", "where threads start to pay", "mapped and unmapped"))




@pytest.mark.slow
def test_an_example_workload_sweeps_on_the_build_from_the_command_line(built_env, tmp_path):
    """`scaling --workload examples/small_solves.py:solve_many --quick` on the build: a
    recommendation, and whether threads changed the answer."""
    python, _ = built_env
    example = "small_solves.py:solve_many"
    run = subprocess.run([python, "-m", "blasbench", "scaling", "--workload", f"examples/{example}", "--quick",
                          "--allow-busy", "--workload-args", EXAMPLES[example], "--results", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT)
    print(run.stdout[-2000:], run.stderr[-2000:])
    assert run.returncode == 0
    scaling = json.loads((tmp_path / "scaling.json").read_text())
    assert [p["threads"] for p in scaling["points"]] == sorted({1, provenance.usable_cores()})
    assert all("verdict" in p["answer"] for p in scaling["points"])
    assert f"for `examples/{example}` at" in (tmp_path / "index.md").read_text()
    assert "### Does threading change the answer?" in (tmp_path / "scaling.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("example", [name for name in EXAMPLES if name != "small_solves.py:solve_many"])
def test_every_other_example_sweeps_on_the_build(built_env, tmp_path, example, monkeypatch):
    """The other examples' sweeps in the built environment (its build verified once, above)."""
    from blasbench.measuring.sweep import ScalingSettings, run_scaling
    from blasbench.measuring.workload import parse_workload
    from blasbench.render import render_all
    from blasbench.results.directory import Results

    python, _ = built_env
    monkeypatch.chdir(ROOT)
    workload = parse_workload(f"examples/{example}", EXAMPLES[example])
    settings = ScalingSettings(rungs=(workload.function,), threads=tuple(sorted({1, provenance.usable_cores()})),
                               repeats=1, workload=workload, warmup=False)
    result = run_scaling(settings, tmp_path / "scaling.json", python=python)
    assert not result["refused"] and all("verdict" in p["answer"] for p in result["points"])
    render_all(Results.load(tmp_path))
    print((tmp_path / "index.md").read_text())


@pytest.mark.slow
def test_a_point_measured_by_one_build_is_not_reused_by_another(built_env, tmp_path):
    """The from-source build measures a sweep; the same command in the test session (PyPI's NumPy,
    `--setup installed`) finds those points of another identity, moves them aside and measures afresh."""
    python, _ = built_env
    command = ["-m", "blasbench", "scaling", "--quick", "--setup", "installed", "--rungs", "3-numexpr", "--profile-rungs",
               "--experiments", "--threads", "1", "--results", str(tmp_path)]
    first = subprocess.run([python, *command], capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stderr[-2000:]
    built = json.loads((tmp_path / "scaling.json").read_text())
    assert built["identity"]["wheels"]["numpy"].startswith(f"{pins.NUMPY} from numpy-{pins.NUMPY}-")  # a wheelhouse key
    second = subprocess.run([sys.executable, *command], capture_output=True, text=True, cwd=ROOT)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "measured with other identity: moved to scaling-" in second.stderr
    [aside] = tmp_path.glob("scaling-*.json")
    assert json.loads(aside.read_text())["points"] == built["points"]
    pypi = json.loads((tmp_path / "scaling.json").read_text())
    assert pypi["identity"]["wheels"]["numpy"] == f"{pins.NUMPY} from index"
    assert all(p["identity"] == pypi["identity"] for p in pypi["points"])


@pytest.mark.slow
def test_a_probe_spoilt_by_other_processes_is_inconclusive_not_failed(built_env):
    """Two busy loops on the cores: the build's verification says so, with its own exit status."""
    python, _ = built_env
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(provenance.usable_cores())]
    try:
        run = subprocess.run([python, "-m", "blasbench.verify", "--size", "1024", "--wait-quiet", "0"],
                             capture_output=True, text=True, cwd=ROOT)
    finally:
        for burner in burners:
            burner.kill()
    assert run.returncode == 3, run.stdout
    assert "verification inconclusive: machine busy" in run.stdout
    assert "python (pid" in run.stdout and "[FAIL] one BLAS" not in run.stdout


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    """A new virtualenv with this project only: every provider's wheels are installed into it in turn."""
    tmp = tmp_path_factory.mktemp("providers")
    python = new_virtualenv(tmp / "venv")
    subprocess.run([python, "-m", "pip", "install", "-q", ROOT], check=True)
    return python


# Not the reference BLAS: threadpoolctl knows no netlib, so its verification fails by design (README);
# its linkage has a quick test, and the reference BLAS is measured side by side in the full tier.
PROVIDERS_BUILT = [("scipy-openblas", "openblas"), ("source", "openblas"), ("mkl", "mkl"), ("blis", "blis")]
# The full tier's alone: compiling OpenBLAS from Debian's source takes CI's tier 5 to 6 minutes before its
# NumPy (the costliest step after the default build); its make options, sources list and target choice
# have quick tests.
FULL_TIER_ONLY = {"source"}


@pytest.mark.slow
@pytest.mark.parametrize("provider, api, numpy_only", [
    *[pytest.param(provider, api, True, marks=[pytest.mark.all_providers] if provider in FULL_TIER_ONLY else [])
      for provider, api in PROVIDERS_BUILT],
    *[pytest.param(provider, api, False, marks=pytest.mark.all_providers) for provider, api in PROVIDERS_BUILT],
], ids=lambda value: {True: "numpy-only", False: "numpy-and-scipy"}.get(value, value) if isinstance(value, bool) else None)
def test_every_provider_builds_and_verifies_for_what_it_is(provider, api, numpy_only, fresh_python, tmp_path):
    """NumPy (in CI; with --all-providers also SciPy, cold 15-30 minutes each) built, or reused from the
    wheelhouse, against each provider, installed and verified in a fresh process: threadpoolctl sees
    that BLAS and only it, every extension module resolves to it, its threads run. What can break
    with a provider (its pkg-config text, meson options, linkage, what is loaded) breaks in NumPy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLIS_", "OMP_", "OPENBLAS_", "MKL_"))}
    env.update({k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")})
    command = [fresh_python, "-m", "blasbench", "build", "--setup", provider + ("+numpy-only" if numpy_only else ""),
               "--results", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if provider == "blis" and provenance.usable_cores() > 1:
        # Debian's BLIS runs one thread unless told: verification says so, and how to fix it
        assert run.returncode != 0 and "BLIS_NUM_THREADS" in run.stdout, run.stdout[-2000:]
        env["BLIS_NUM_THREADS"] = str(provenance.usable_cores())
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((tmp_path / "build.json").read_text())
    assert [w["package"] for w in result["wheels"]] == (["numpy"] if numpy_only else ["numpy", "scipy"])
    verification = result["verification"]
    assert verification["ok"] and set(verification["modules"]) == {w["package"] for w in result["wheels"]}
    assert verification["blas"]["internal_api"] == api
    assert os.path.realpath(verification["blas"]["filepath"]) == result["blas"]["library"]
    assert result["blas"]["provider"] == provider
    if provider == "scipy-openblas":
        assert verification["blas"]["version"].startswith("0.3.3")  # newer than Debian's 0.3.21
    if provider == "source":
        assert "openblas-source" in result["blas"]["library"] and "Debian bookworm" in result["blas"]["pc_text"]
        assert "TARGET=HASWELL" in (tmp_path / "build.md").read_text() or "avx2" not in provenance.cpu_flags()


@pytest.mark.slow
@pytest.mark.parametrize("beside", [("system-pthread",), pytest.param(("system-pthread", "source"),
                                                                       marks=pytest.mark.all_providers)],
                         ids=["debian", "debian-and-source"])
def test_openblas_releases_load_under_one_build_beside_the_variants_built_against_debians(beside, fresh_python, tmp_path):
    """`threadmap --setup scipy-openblas:0.3.28+numpy-only system:pthread+numpy-only source+numpy-only`: NumPy
    built (reused from the wheelhouse) against scipy-openblas32; a tiny map under its 0.3.28 wheel, loaded in the
    build's place, and under Debian's OpenBLAS and (the full tier) under the one compiled from Debian's source, each
    with NumPy built against it in an environment of its own. Each point's processes loaded what it names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_NUM", "MKL_"))}
    run = subprocess.run([fresh_python, "-m", "blasbench", "threadmap", "--setup", "scipy-openblas:0.3.28+numpy-only",
                          *(f"{VARIANTS[name].setup}+numpy-only" for name in beside), "--calls", "solve", "--sizes", "64",
                          "--threads", "1,2", "--rounds", "1", "--more-rounds", "0", "--allow-busy",
                          "--results", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    points = {p.parent.name: json.loads(p.read_text()) for p in (tmp_path / "releases").glob("*/release.json")}
    assert set(points) == {"0.3.28.0.2", *beside} and not any("error" in p for p in points.values())
    assert points["0.3.28.0.2"]["loaded"]["version"].startswith("0.3.28") and "variant" not in points["0.3.28.0.2"]
    assert "openblas-pthread" in points["system-pthread"]["loaded"]["filepath"]
    assert "source" not in beside or "openblas-source" in points["source"]["library"]
    for name in beside:
        assert points[name]["release"] == "0.3.21" and points[name]["variant"] == name
        assert os.path.realpath(points[name]["loaded"]["filepath"]) == points[name]["library"]
        assert [w["package"] for w in points[name]["wheels"]] == ["numpy"]
    page = (tmp_path / "setups.md").read_text()
    assert "| `0.3.21` | setup `system:pthread+numpy-only` |" in page and "| `0.3.28.0.2` | the one build |" in page


@pytest.mark.slow
@pytest.mark.parametrize("how", [
    # the objects from ccache: the link and packaging (timestamps, order, recorded paths), in place; "elsewhere"
    # does the same in other directories, so CI's tier runs that one alone
    pytest.param("package", marks=pytest.mark.all_providers),
    pytest.param("compile", marks=pytest.mark.all_providers),  # every object again, ccache off: a cold NumPy
    "elsewhere",  # the whole cache in another directory: its own build tools, source and build paths
])
def test_numpy_built_twice_gives_the_same_bytes(how, built_env, tmp_path):
    """`build --check-reproducible`: the wheelhouse's NumPy built once more into a temporary directory;
    the two wheels are identical, and build.md says so."""
    python, _ = built_env
    run = subprocess.run([python, "-m", "blasbench", "build", "--setup", "system:pthread+numpy-only", "--check-reproducible", how,
                          "--results", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads((tmp_path / "build.json").read_text())
    [check] = result["reproducibility"]
    assert check["verdict"] == "identical" and check["how"] == how, check
    assert check["sha256"][0] == check["sha256"][1] == result["wheels"][0]["manifest"]["wheel_sha256"]
    assert "**identical**" in (tmp_path / "build.md").read_text()
    [numpy] = result["wheels"]
    assert numpy["manifest"]["members"] == wheel_members(Path(numpy["wheel"]))


@pytest.mark.slow
@pytest.mark.after_builds
def test_the_ci_tier_compiles_scipy_at_most_once(pytestconfig, session_started):
    """What keeps CI inside its time on a new machine with an empty cache: SciPy (15-30 minutes cold on
    2 cores) is compiled for the default provider only; every other provider builds NumPy alone."""
    if pytestconfig.getoption("--all-providers"):
        pytest.skip("the full tier compiles SciPy for every provider")
    compiled = sorted(log.name for log in (store.cache_dir() / "logs").glob("scipy-*.log")
                      if log.stat().st_mtime >= session_started)
    assert len(compiled) <= 1, f"SciPy was compiled {len(compiled)} times in this session: {compiled}"
