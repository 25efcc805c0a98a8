"""Reproducible builds: what a wheel's members are, where two builds differ, builds carried between
machines as a tar file; the identity of the measured code; one writer per results directory."""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from blasbench import UserError, store
from blasbench.building import build, wheelhouse
from blasbench.building.wheels import compare_wheels, elf_section_at, wheel_members
from blasbench.cli import main
from blasbench.results import kinds
from blasbench.results.kinds.build import describe_difference

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LIBM = Path("/usr/lib/x86_64-linux-gnu/libm.so.6")


def make_wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
    return path


def text_offset(library: Path) -> int:
    """An offset inside the library's .text, read with readelf (binutils), not with the code under test."""
    out = subprocess.run(["readelf", "-SW", str(library)], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if " .text " in line)
    fields = line.split("]", 1)[1].split()
    return int(fields[3], 16) + 16  # name, type, address, offset


@pytest.mark.skipif(not LIBM.exists() or shutil.which("readelf") is None, reason="needs glibc's libm and binutils")
def test_a_differing_shared_library_names_its_member_offset_and_elf_section(tmp_path):
    original = LIBM.read_bytes()
    offset = text_offset(LIBM)
    changed = bytearray(original)
    changed[offset] ^= 0xFF
    a = make_wheel(tmp_path / "a.whl", {"pkg/_core.so": original, "pkg/__init__.py": b"x = 1\n"})
    b = make_wheel(tmp_path / "b.whl", {"pkg/_core.so": bytes(changed), "pkg/__init__.py": b"x = 1\n",
                                        "pkg/extra.py": b""})
    assert elf_section_at(original, offset) == ".text"
    assert elf_section_at(original, 3) == "ELF header"
    assert elf_section_at(b"not an elf file", 3) is None
    differences = compare_wheels(a, b)
    assert differences == [
        {"member": "pkg/extra.py", "only_in": "second"},
        {"member": "pkg/_core.so", "sizes": [len(original)] * 2, "first_difference": offset, "elf_section": ".text"},
    ]
    assert describe_difference(differences[1]).endswith(f"first differing byte at {offset:,} (in .text)")
    assert compare_wheels(a, a) == []
    assert wheel_members(a)["pkg/__init__.py"] == hashlib.sha256(b"x = 1\n").hexdigest()


def test_source_date_epoch_is_the_newest_member_time_inside_the_sdist(tmp_path):
    sdist = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, mtime in (("pkg-1.0/a.py", 1_700_000_000), ("pkg-1.0/b.py", 1_700_000_500.25)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = 1, mtime
            tar.addfile(info, io.BytesIO(b"x"))
    os.utime(sdist, (2_000_000_000, 2_000_000_000))  # when this machine downloaded it: not used
    assert build.source_date_epoch(sdist) == 1_700_000_500


def wheelhouse_entry(root: Path, package: str = "numpy", **changed_inputs) -> Path:
    """A wheelhouse entry as a build leaves it: a small real wheel and its manifest."""
    inputs = {"schema": build.KEY_SCHEMA, "package": package, "version": "1.0",
              "openblas": {"provider": "system", "variant": "pthread"}, **build.machine_inputs(), **changed_inputs}
    key = store.digest(inputs)
    entry = root / f"{package}-1.0-{key[:16]}"
    entry.mkdir(parents=True)
    wheel = make_wheel(entry / f"{package}-1.0-cp311-cp311-linux_x86_64.whl", {f"{package}/__init__.py": b"v = 1\n"})
    store.write_json(entry / "build.json", {"package": package, "version": "1.0", "key": key, "inputs": inputs,
                                            "wheel": wheel.name, "wheel_sha256": store.file_sha256(wheel),
                                            "members": wheel_members(wheel)})
    return entry


def test_a_wheelhouse_exported_here_imports_whole_on_another_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "here"))
    entry = wheelhouse_entry(build.wheelhouse())
    archive = tmp_path / "builds.tar"
    assert main(["wheelhouse", "export", str(archive)]) == 0
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "there"))
    imported, present = wheelhouse.import_(archive)
    assert imported == [entry.name] and present == []
    assert build.find_cached("numpy", "1.0", json.loads((entry / "build.json").read_text())["key"]) is not None
    assert wheelhouse.import_(archive) == ([], [entry.name])  # a key already here is left as it is


@pytest.mark.parametrize("damage, message", [
    ("platform", "it was built for platform 'linux-aarch64'"),
    ("member", "a member of its wheel does not match its recorded sha256"),
    ("truncated", "is cut short or not an export"),
])
def test_a_bad_wheelhouse_import_is_one_line_and_imports_nothing(damage, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "here"))
    good = wheelhouse_entry(build.wheelhouse(), "scipy")
    bad = wheelhouse_entry(build.wheelhouse(), **({"platform": "linux-aarch64"} if damage == "platform" else {}))
    if damage == "member":  # the wheel rewritten with its recorded sha256: only the member hashes tell
        manifest = json.loads((bad / "build.json").read_text())
        wheel = make_wheel(bad / manifest["wheel"], {"numpy/__init__.py": b"v = 2\n"})
        store.write_json(bad / "build.json", {**manifest, "wheel_sha256": store.file_sha256(wheel)})
    archive = tmp_path / "builds.tar"
    wheelhouse.export(archive, [])
    if damage == "truncated":
        archive.write_bytes(archive.read_bytes()[:len(archive.read_bytes()) // 2])
    monkeypatch.setenv("BLASBENCH_CACHE", str(tmp_path / "there"))
    assert main(["wheelhouse", "import", str(archive)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0], err
    assert good.name not in err[0]  # the entry at fault is named, not the good one
    assert wheelhouse.entries() == [] and [p.name for p in build.wheelhouse().iterdir()] == []


def clone_with_edit(tmp_path: Path, text: str) -> Path:
    """A git repository of this working tree, committed, with ``text`` appended to the network."""
    clone = tmp_path / "clone"
    if not clone.exists():
        shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".git", ".nox", "reports", "__pycache__"))
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
            subprocess.run(["git", "-C", str(clone), *command], check=True)
    network = clone / "nn" / "network.py"
    network.write_text((ROOT / "nn" / "network.py").read_text() + text)
    return clone


def identity_in(clone: Path) -> dict:
    query = "import json; from blasbench import provenance; print(json.dumps([provenance.git_commit(), " \
            "provenance.workload_source()]))"
    out = subprocess.run([sys.executable, "-c", query], cwd=clone, env={**os.environ, "PYTHONPATH": str(clone)},
                         capture_output=True, text=True, check=True).stdout
    return dict(zip(("commit", "workload_source"), json.loads(out)))


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git clone")
def test_code_edited_again_is_another_identity_not_the_same_dirty(tmp_path):
    clean = identity_in(clone_with_edit(tmp_path, ""))
    first = identity_in(clone_with_edit(tmp_path, "# one edit\n"))
    second = identity_in(clone_with_edit(tmp_path, "# another edit\n"))
    assert "-dirty" not in clean["commit"]
    assert "-dirty." in first["commit"] and "-dirty." in second["commit"] and first["commit"] != second["commit"]
    assert len({clean["workload_source"], first["workload_source"], second["workload_source"]}) == 3


def test_a_second_run_into_the_same_results_directory_waits_for_the_first_naming_it(tmp_path, capsys):
    results = tmp_path / "reports"
    shutil.copytree(DATA / "epyc2-a", results)
    held, release = threading.Event(), threading.Event()

    def first_run():
        with store.one_writer(results, "python -m blasbench scaling (the first run)"):
            held.set()
            release.wait(30)

    first = threading.Thread(target=first_run)
    first.start()
    held.wait(30)
    threading.Timer(1.0, release.set).start()  # the first run ends while the second waits
    code = main(["report", "--results", str(results)])
    first.join()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 0 and release.is_set()
    assert err[0].startswith(f"waiting for the other run writing to {results} (pid {os.getpid()}"), err
    assert err[0].endswith(": python -m blasbench scaling (the first run)) ...")
    assert not (results / store.RESULTS_LOCK).exists()  # the lock file goes with the run that held it


def test_a_results_directory_that_cannot_hold_the_lock_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    assert main(["report", "--results", str(blocker)]) == 2
    with pytest.raises(UserError, match="pass a writable --results DIR"):
        with store.one_writer(blocker / "reports", "x"):
            pass


def test_the_source_provider_names_a_target_every_avx2_cpu_runs_unless_told():
    from blasbench.building.providers import compile_hint, parse_make_options

    assert parse_make_options([], ["avx", "avx2", "avx512f"])["TARGET"] == "HASWELL"
    assert parse_make_options([], ["avx2"])["TARGET"] == "HASWELL"
    assert "TARGET" not in parse_make_options([], ["avx", "sse4_2"])  # no AVX2: OpenBLAS detects
    assert parse_make_options(["TARGET=ZEN"], ["avx2"])["TARGET"] == "ZEN"
    assert "TARGET" not in parse_make_options(["DYNAMIC_ARCH=1"], ["avx2"])
    log = ("../kernel/x86_64/../arm/../simd/intrin_avx512.h:29:18: note: called from here\n"
           "avx512fintrin.h:12520:1: error: inlining failed in call to 'always_inline' '_mm512_add_ps': "
           "target specific option mismatch\n")
    assert "pass --setup source+TARGET=HASWELL" in compile_hint(log)
    assert compile_hint("make: *** [Makefile:42: libs] Error 1\n") is None


def test_a_blas_replaced_on_disk_since_the_build_is_said_so_not_called_a_difference(tmp_path):
    """`--check-reproducible` compares two builds of one key; when the BLAS file the first one linked has
    other bytes now, a second build would differ for that reason alone: it says so and compiles nothing."""
    from test_providers import example_openblas

    library = tmp_path / "libopenblas.so"
    library.write_bytes(b"the library as it is now")
    wheel = make_wheel(tmp_path / "numpy-1.0-cp311-cp311-linux_x86_64.whl", {"numpy/__init__.py": b""})
    built = build.BuiltWheel("numpy", "1.0", "k" * 64, wheel, {"blas_sha256": "0" * 64, "wheel_sha256": "x"}, True, 0.0)
    check = build.check_reproducible(built, example_openblas(library=str(library)))
    assert check["verdict"] == "library-changed"
    assert str(library) in check["detail"] and "is not the file the first build linked" in check["detail"]


def test_build_md_shows_each_wheels_second_build_verdict():
    from blasbench.render.build import render_build

    result = kinds.read_result(ROOT / "tests" / "data" / "epyc2-a" / "build.json", "build")
    result["reproducibility"] = [
        {"package": "numpy", "verdict": "identical", "sha256": ["ab" * 32] * 2, "differences": [], "seconds": 190.0},
        {"package": "scipy", "verdict": "differs", "sha256": ["ab" * 32, "cd" * 32], "seconds": 800.0, "differences": [
            {"member": "scipy/_lib/_ccallback_c.so", "sizes": [100, 100], "first_difference": 42, "elf_section": ".rodata"}]},
    ]
    text = render_build(result)
    assert "## Reproducible?" in text and "| numpy | **identical** |" in text
    assert "`scipy/_lib/_ccallback_c.so`: 100 bytes both, first differing byte at 42 (in .rodata)" in text


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git clone")
def test_an_edit_during_a_run_does_not_change_the_runs_commit(tmp_path):
    """A run measures the package installed when it started: its commit is read once, so editing
    the clone while a map or sweep runs does not split its results between two identities."""
    clone = clone_with_edit(tmp_path, "")
    query = ("import json, pathlib; from blasbench import provenance; before = provenance.git_commit(); "
             "path = pathlib.Path('nn/network.py'); path.write_text(path.read_text() + '# edited\\n'); "
             "print(json.dumps([before, provenance.git_commit()]))")
    out = subprocess.run([sys.executable, "-c", query], cwd=clone, env={**os.environ, "PYTHONPATH": str(clone)},
                         capture_output=True, text=True, check=True).stdout
    before, after = json.loads(out)
    assert before == after and "-dirty" not in before
    assert "-dirty." in identity_in(clone)["commit"]  # the next run sees the edit


def test_the_package_run_from_its_clone_finds_its_commit_from_any_directory(tmp_path):
    """The package's own clone is found from where the package is, not only from the current
    directory (moving provenance.py into measuring/ had made it look one folder too deep)."""
    run = subprocess.run([sys.executable, "-c", "from blasbench import provenance; print(provenance.source_tree())"],
                         cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == str(ROOT)


def test_a_wheel_names_no_cache_path_and_its_record_still_verifies(tmp_path):
    """Two wheels of one build made under two cache directories differ only where __config__.py names
    the cache; with the path taken out they are the same bytes, and RECORD's hashes match the files
    (checked here with hashlib, as pip checks them)."""
    from blasbench.building.wheels import without_cache_path

    def wheel_from(cache: str, name: str) -> Path:
        config = f'"pc file directory": r"{cache}/pkgconfig/system-pthread",\n"path": r"{cache}/buildenv/ab/bin/python"\n'
        binary = b"\x7fELF/root/.cache/blasbench"  # a compiled member naming the cache is left as it is
        members = {"numpy/__config__.py": config.encode(), "numpy/_core.so": binary}
        record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
                         for n, d in members.items()) + "numpy-2.4.6.dist-info/RECORD,,\n"
        return make_wheel(tmp_path / name, {**members, "numpy-2.4.6.dist-info/RECORD": record.encode()})

    one, two = wheel_from("/root/.cache/blasbench", "one.whl"), wheel_from("/ci/cache", "two.whl")
    assert without_cache_path(one, Path("/root/.cache/blasbench")) == ["numpy/__config__.py"]
    assert without_cache_path(two, Path("/ci/cache/")) == ["numpy/__config__.py"]
    with zipfile.ZipFile(one) as a, zipfile.ZipFile(two) as b:
        assert a.read("numpy/__config__.py") == b.read("numpy/__config__.py") == (
            b'"pc file directory": r"$BLASBENCH_CACHE/pkgconfig/system-pthread",\n'
            b'"path": r"$BLASBENCH_CACHE/buildenv/ab/bin/python"\n')
        assert a.read("numpy/_core.so") == b"\x7fELF/root/.cache/blasbench"
        for line in a.read("numpy-2.4.6.dist-info/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if digest:
                data = a.read(name)
                assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert int(size) == len(data)
    assert one.read_bytes() == two.read_bytes()
    assert without_cache_path(one, Path("/root/.cache/blasbench")) == []  # nothing left to take out
