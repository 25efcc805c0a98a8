"""site.cfg parsing and pkg-config generation on a prefix the tests make, provider errors."""

import os
import subprocess
from pathlib import Path

import pytest

from blasbench import UserError
from blasbench.building.host import debian_source_lists
from blasbench.building.providers import (
    BLASLibrary,
    BLISProvider,
    ReferenceProvider,
    SiteCfgProvider,
    SystemProvider,
    get_provider,
    parse_make_options,
    parse_site_cfg,
    render_pc,
)


@pytest.fixture
def prefix(tmp_path):
    (tmp_path / "opt/lib").mkdir(parents=True)
    (tmp_path / "opt/include").mkdir()
    (tmp_path / "opt/lib/libopenblas.so").write_bytes(b"")
    return tmp_path / "opt"


def write_cfg(tmp_path, text):
    path = tmp_path / "site.cfg"
    path.write_text(text)
    return path


def test_site_cfg_keys_and_defaults(tmp_path, prefix):
    cfg = parse_site_cfg(write_cfg(tmp_path, f"""
[openblas]
libraries = openblas
library_dirs = {prefix}/lib
include_dirs = {prefix}/include
"""))
    assert cfg == {"libraries": ["openblas"], "library_dirs": [f"{prefix}/lib"],
                   "include_dirs": [f"{prefix}/include"], "runtime_library_dirs": [f"{prefix}/lib"]}


def test_site_cfg_lists_split_on_commas_and_pathsep(tmp_path, prefix):
    other = tmp_path / "other"
    other.mkdir()
    cfg = parse_site_cfg(write_cfg(tmp_path, f"""
[openblas]
libraries = openblas, gfortran
library_dirs = {prefix}/lib{os.pathsep}{other}
runtime_library_dirs = {other}
"""))
    assert cfg["libraries"] == ["openblas", "gfortran"]
    assert cfg["library_dirs"] == [f"{prefix}/lib", str(other)]
    assert cfg["runtime_library_dirs"] == [str(other)]


@pytest.mark.parametrize("text, message", [
    ("[openblas\nlibraries = openblas\n", "not a valid site.cfg"),
    ("[atlas]\nlibraries = atlas\n", "no \\[openblas\\] section"),
    ("[openblas]\nlibraries = openblas\n", "needs library_dirs"),
    ("[openblas]\nlibrary_dirs = /nonexistent/lib\n", "not a directory"),
    ("[openblas]\nlibrary_dir = /usr/lib\n", "unknown key"),
])
def test_malformed_site_cfg_gets_a_clear_error(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        parse_site_cfg(write_cfg(tmp_path, text))


def test_missing_site_cfg(tmp_path):
    with pytest.raises(UserError, match="site.cfg.example"):
        parse_site_cfg(tmp_path / "site.cfg")


def test_site_cfg_without_the_library(tmp_path, prefix):
    (prefix / "lib/libopenblas.so").unlink()
    path = write_cfg(tmp_path, f"[openblas]\nlibrary_dirs = {prefix}/lib\n")
    with pytest.raises(UserError, match="no libopenblas.so"):
        SiteCfgProvider(path).ensure()


def test_pc_file_is_read_by_pkg_config(tmp_path, prefix):
    text = render_pc("openblas", "0.3.21", [f"{prefix}/lib"], ["openblas"], [f"{prefix}/include"], [f"{prefix}/lib"])
    (tmp_path / "openblas.pc").write_text(text)
    env = {**os.environ, "PKG_CONFIG_PATH": str(tmp_path)}
    libs = subprocess.run(["pkg-config", "--libs", "openblas"], env=env, capture_output=True, text=True, check=True)
    cflags = subprocess.run(["pkg-config", "--cflags", "openblas"], env=env, capture_output=True, text=True, check=True)
    version = subprocess.run(["pkg-config", "--modversion", "openblas"], env=env, capture_output=True, text=True)
    assert libs.stdout.split() == [f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib", "-lopenblas"]
    assert cflags.stdout.split() == [f"-I{prefix}/include"]
    assert version.stdout.strip() == "0.3.21"


def test_unknown_flavour():
    with pytest.raises(UserError, match="pthread, openmp, serial"):
        SystemProvider("tbb")


@pytest.mark.parametrize("provider, flavour, choices", [
    ("scipy-openblas", "ilp64", "lp64"), ("blis", "tbb", "pthread, openmp"),
    ("mkl", "gomp", "it has none"), ("reference", "pthread", "it has none")])
def test_every_provider_names_its_flavours_when_given_another(provider, flavour, choices):
    with pytest.raises(UserError, match=f"--setup {provider}:{flavour}: {provider} has no flavour '{flavour}'; .*{choices}"):
        get_provider(provider, flavour)


def test_missing_flavour_without_root_prints_the_command(monkeypatch, tmp_path):
    provider = SystemProvider("serial")
    provider.lib_dir = tmp_path / "missing"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match="sudo apt-get install -y --no-install-recommends libopenblas-serial-dev"):
        provider.ensure()


def example_openblas(**changes):
    fields = dict(provider="system", flavour="pthread", pkg_config_name="openblas", pkg_config_dir="/cache/a",
                  pc_text="Name: openblas\n", library="/usr/lib/libopenblas.so", version="0.3.21",
                  threading_layer="pthreads", config="OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell MAX_THREADS=64",
                  architecture="Haswell", ilp64=False)
    fields.update(changes)
    return BLASLibrary(**fields)


def test_key_material_ignores_run_time_core_and_cache_location():
    a = example_openblas()
    b = example_openblas(architecture="Zen", config="OpenBLAS 0.3.21 DYNAMIC_ARCH Zen MAX_THREADS=64",
                         pkg_config_dir="/elsewhere")
    assert a.key_material() == b.key_material()
    assert a.key_material() != example_openblas(threading_layer="openmp").key_material()


def test_meson_args_fail_instead_of_falling_back():
    args = example_openblas().meson_args("numpy")
    assert "-Dallow-noblas=false" in args and "-Dblas=openblas" in args and "-Dlapack=openblas" in args
    assert "-Dallow-noblas=false" not in example_openblas().meson_args("scipy")


def test_scipy_finds_the_scipy_openblas_wheel_through_blas_openblas():
    """SciPy 1.17's meson.build has no branch for -Dblas=scipy-openblas (it stops at an undefined
    variable); -Dblas=openblas looks for scipy-openblas.pc first. NumPy is told by name."""
    wheel = example_openblas(provider="scipy-openblas", flavour="lp64", pkg_config_name="scipy-openblas")
    assert "-Dblas=scipy-openblas" in wheel.meson_args("numpy")
    assert wheel.meson_args("scipy")[:2] == ["-Dblas=openblas", "-Dlapack=openblas"]


def test_pc_libraries_keep_paths_and_linker_flags_in_order():
    text = render_pc("blis", "0.9.0", ["/b", "/l"], ["blis", "lapack", "-Wl,--no-as-needed", "blas", "-Wl,--as-needed",
                                                    "/m/libmkl_rt.so.3"], [], ["/b"])
    assert "-lblis -llapack -Wl,--no-as-needed -lblas -Wl,--as-needed /m/libmkl_rt.so.3" in text


def test_blis_carries_its_own_libblas_for_the_reference_lapack():
    """Debian's liblapack.so.3 needs a libblas.so.3; without BLIS's own one linked in (kept by
    --no-as-needed) the loader would take the alternatives' one, an OpenBLAS (CI installs libblis-pthread-dev)."""
    provider = BLISProvider("pthread")
    if not (provider.lib_dirs[0] / "libblis.so").exists():
        pytest.skip("libblis-pthread-dev is not installed (.ci/run installs it)")
    library = provider.ensure()
    assert provider.api == "blis" and library.threading_layer == "pthreads"
    assert "-lblis -llapack -Wl,--no-as-needed -lblas -Wl,--as-needed" in library.pc_text
    assert f"-Wl,-rpath,{provider.lib_dirs[0]}" in library.pc_text
    assert library.companions == (os.path.realpath(provider.lib_dirs[0] / "libblas.so"),
                                  os.path.realpath(provider.lib_dirs[1] / "liblapack.so"))


def test_reference_blas_is_linked_from_its_own_directories_not_the_alternatives():
    """Debian's libblas.so.3 alternative points at OpenBLAS when both are installed: the
    reference build must carry RUNPATHs to netlib's own directories (CI installs libblas-dev)."""
    library = ReferenceProvider().ensure()
    triplet_dir = ReferenceProvider().lib_dirs[0].parent
    for name in ("blas", "lapack"):
        assert f"-Wl,-rpath,{triplet_dir / name}" in library.pc_text
    assert library.library == os.path.realpath(triplet_dir / "blas" / "libblas.so")
    assert library.threading_layer == "disabled" and library.version.startswith("3.")
    args = library.meson_args("scipy")
    assert args[:2] == ["-Dblas=reference-blas", "-Dlapack=reference-blas"]
    assert (Path(library.pkg_config_dir) / "reference-blas.pc").read_text() == library.pc_text


def test_ld_preload_of_another_openblas_does_not_change_the_build_key(monkeypatch):
    """The description (hence the wheelhouse key) is read in a clean child: a preloaded serial
    OpenBLAS, a forced core type or a thread limit in the user's shell change nothing."""
    serial = SystemProvider("serial").lib_dir / "libopenblas.so"
    if not serial.exists():
        pytest.skip("libopenblas-serial-dev is not installed (.ci/run installs it)")
    clean = SystemProvider("pthread").ensure()
    monkeypatch.setenv("LD_PRELOAD", str(serial))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    preloaded = SystemProvider("pthread").ensure()
    assert preloaded.key_material() == clean.key_material()
    assert "USE_OPENMP" not in clean.config and clean.threading_layer == "pthreads"


def test_verification_names_ld_preload_when_it_loads_another_library(monkeypatch):
    from blasbench.building.verify import check_library

    monkeypatch.setenv("LD_PRELOAD", "/opt/other/libopenblas.so")
    check = check_library("/opt/other/libopenblas.so", "/usr/lib/libopenblas.so")
    assert not check.ok and "LD_PRELOAD=/opt/other/libopenblas.so" in check.hint


@pytest.mark.parametrize("words, message", [
    (["TARGET"], "write KEY=VALUE"),
    (["TARGT=ZEN"], "unknown OpenBLAS make variable TARGT"),
    (["INTERFACE64=1"], "ILP64 OpenBLAS"),
])
def test_bad_make_options_are_refused_in_one_line(words, message):
    with pytest.raises(UserError, match=message):
        parse_make_options(words)


def test_make_options_keep_the_thread_ceiling_unless_the_user_sets_one():
    assert parse_make_options([])["NUM_THREADS"] == "64"
    assert parse_make_options(["NUM_THREADS=256", "TARGET=ZEN"]) == {
        "USE_THREAD": "1", "NUM_THREADS": "256", "NO_AFFINITY": "1", "NO_WARMUP": "1", "TARGET": "ZEN", "NO_LAPACKE": "1"}
    with pytest.raises(UserError, match="only for --setup source, not system"):
        get_provider("system", "pthread", make=("TARGET=ZEN",))


def test_debian_sources_are_read_from_a_private_list_not_the_systems(tmp_path):
    options = debian_source_lists("http://mirror.example/debian", "trixie", tmp_path)
    assert (tmp_path / "sources.list").read_text() == "deb-src http://mirror.example/debian trixie main\n"
    assert f"Dir::Etc::SourceList={tmp_path / 'sources.list'}" in options
    assert f"Dir::State::Lists={tmp_path / 'lists'}" in options
    assert not any("/etc/apt" in option for option in options)
