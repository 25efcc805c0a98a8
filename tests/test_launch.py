"""How the project is started must not depend on where pip put the `nox` script: CI and the
README call `python3 -m nox`, which works wherever the interpreter is."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blasbench.store import cache_dir

ROOT = Path(__file__).resolve().parent.parent
# What the runs of a way in (README's commands, the container image's run) add to its command: a shared
# CI machine may be busy, and one rung swept without the profiling sweep and the experiments
# (test_scaling_quick_end_to_end runs the whole quick sweep on the build): what these runs test is the
# way in, not the sweep again (CI time).
README_RUN = " --allow-busy --rungs 6-data-parallel --profile-rungs --experiments"


def nox_invocations(text: str) -> list[str]:
    """Every command line in ``text`` that starts nox, however it is spelled."""
    return [line.strip() for line in text.splitlines()
            if re.search(r"(^|\s|\()(python3? -m )?nox\s+(-R\s+)?-[sl]", line) and not line.lstrip().startswith("#")]


def quickstart(readme: str) -> list[str]:
    """The commands of README's quickstart block for other systems than Debian's, comments dropped."""
    block = re.search(r"### On other systems.*?```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def debian_quickstart(readme: str) -> list[str]:
    """The commands of README's Debian 12 quickstart block, comments dropped."""
    block = re.search(r"### On Debian 12.*?```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def path_without_pip_scripts(tmp_path: Path, python: str = sys.executable) -> str:
    """A PATH where `python3` is ``python`` and no directory pip installs scripts into is
    present (as after `pip install --user nox` in a non-login shell)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(python)} \"$@\"\n")
    wrapper.chmod(0o755)
    return f"{bin_dir}:/usr/bin:/bin"


def test_ci_and_readme_start_nox_through_the_interpreter():
    ci = nox_invocations((ROOT / ".ci" / "run").read_text())
    readme = nox_invocations((ROOT / "README.md").read_text())
    assert ci and readme
    bare = [line for line in ci + readme if re.search(r"(^|[\s`(])nox\s", line) and "-m nox" not in line
            and "pipx run nox" not in line]
    assert not bare, f"bare `nox` depends on PATH: {bare}"


def test_readme_quickstart_and_ci_invocation_run_without_pip_scripts_on_path(tmp_path):
    path = path_without_pip_scripts(tmp_path)
    assert subprocess.run(["sh", "-c", "command -v nox"], env={"PATH": path}, capture_output=True).returncode != 0
    commands = quickstart((ROOT / "README.md").read_text())
    nox_lines = [c for c in commands if "-m nox" in c]
    assert len(commands) == 2 and len(nox_lines) == 1, commands  # install nox, then one session
    assert nox_lines[0].endswith("-- --quick"), "a first run is a smoke run"
    listed = subprocess.run(["sh", "-c", "python3 -m nox --list"], env={"PATH": path, "HOME": str(tmp_path)},
                            cwd=ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    ci_line = next(line for line in nox_invocations((ROOT / ".ci" / "run").read_text()))
    for line in nox_lines + [ci_line]:
        session = re.search(r"-s\s+(\S+)", line).group(1)
        assert re.search(rf"^\W*{re.escape(session)}\b", listed.stdout, re.M), f"{line}: no session {session}"


@pytest.mark.slow
def test_readme_quickstart_runs_verbatim_in_a_fresh_clone_and_home(tmp_path):
    """README's two commands, as a new user runs them: a fresh clone, a fresh home (so pip's
    `--user` scripts are nowhere on PATH), the machine's own python3, the shared build cache; the
    session gets `-- --quick` so that the sweep is a smoke run."""
    clone, home = tmp_path / "clone", tmp_path / "home"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    home.mkdir()
    path = path_without_pip_scripts(tmp_path, getattr(sys, "_base_executable", sys.executable))
    env = {"PATH": path, "HOME": str(home), "BLASBENCH_CACHE": str(cache_dir()), "LANG": "C.UTF-8",
           **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "OPENBLAS_CORETYPE", "OPENBLAS_L2"))}}
    for command in quickstart((ROOT / "README.md").read_text()):
        if "-m nox -s" in command:
            command += README_RUN
        run = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL)
        print(f"$ {command}\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
        assert run.returncode == 0, command
    build = json.loads((clone / "reports" / "build.json").read_text())
    assert build["verification"]["status"] in ("passed", "inconclusive") and all(w["cached"] for w in build["wheels"])
    scaling = json.loads((clone / "reports" / "scaling.json").read_text())
    assert scaling["points"] and scaling["identity"]["wheels"]["numpy"].startswith("2.4.6 from numpy-2.4.6-")
    # nox runs the package installed into its session, its children in empty directories: the
    # clone's commit still reaches every point
    head = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert {p["identity"]["commit"] for p in scaling["points"]} == {scaling["identity"]["commit"]} == {head}
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout == ""


def test_the_command_line_starts_before_the_runtime_packages_are_installed():
    """`build` runs in a fresh session environment before numexpr, matplotlib or torch are there
    (they are installed after the wheels): importing the command line must not need them."""
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in ("numexpr", "matplotlib", "torch"))
    run = subprocess.run([sys.executable, "-c", f"import sys; {blocked}; import blasbench.cli"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.mark.slow
def test_readme_debian_quickstart_runs_as_an_ordinary_user(tmp_path):
    """README's Debian 12 session line, as an ordinary user (no root, no sudo) on a machine whose
    packages an administrator installed (README's first line; .ci/run installs them): nothing is
    installed with apt-get, the builds come from a wheelhouse exported from root's cache and
    imported into the user's own (a compile would take most of an hour), and the reports are the user's."""
    import pwd

    if os.geteuid() != 0:
        pytest.skip("creating an ordinary user needs root")
    if shutil.which("pipx") is None or not Path("/usr/include/python3.11/Python.h").exists():
        pytest.fail("pipx or Python's headers are missing: .ci/run installs pipx, python3-dev and python3-venv")
    from blasbench.building import wheelhouse

    user = "blasbench-user"
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
    home = Path(pwd.getpwnam(user).pw_dir)
    work = home / f"quickstart-{tmp_path.name}"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    clone, cache = work / "clone", work / "cache"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    archive = work / "builds.tar"
    default = []  # the keys of the default provider's builds
    for entry in wheelhouse.entries():
        manifest = json.loads((entry / wheelhouse.MANIFEST).read_text())
        blas = manifest["inputs"]["openblas"]  # key inputs keep their first spelling
        if (blas["provider"], blas["variant"]) == ("system", "pthread"):
            default.append(manifest["key"])
    run = subprocess.run([sys.executable, "-m", "blasbench", "wheelhouse", "export", str(archive), "--keys", *default],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    imported = subprocess.run([sys.executable, "-m", "blasbench", "wheelhouse", "import", str(archive)],
                              env={**os.environ, "BLASBENCH_CACHE": str(cache)}, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    for shared in ("sdists", "mnist"):  # what a first run downloads: the same files, fetched once here
        if (cache_dir() / shared).exists():
            shutil.copytree(cache_dir() / shared, cache / shared)
    subprocess.run(["chown", "-R", f"{user}:{user}", str(work)], check=True)
    [command] = [line for line in debian_quickstart((ROOT / "README.md").read_text()) if "nox" in line]
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "BLASBENCH_CACHE": str(cache),
           **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "OPENBLAS_CORETYPE"))}}
    started = time.monotonic()
    run = subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                          "bash", "-c", f"cd {clone} && {command}{README_RUN}"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    print(f"$ {command}{README_RUN}\n{run.stdout[-3000:]}{run.stderr[-3000:]}\n{time.monotonic() - started:.0f} s")
    assert run.returncode == 0
    assert "apt-get" not in run.stdout + run.stderr
    build = json.loads((clone / "reports" / "build.json").read_text())
    assert all(w["cached"] for w in build["wheels"]), "compiled although the imported wheelhouse had the keys"
    assert (clone / "reports" / "index.md").stat().st_uid == pwd.getpwnam(user).pw_uid


def installed_block(readme: str) -> list[str]:
    """The commands of README's "Check the NumPy you already have" block, comments dropped."""
    block = re.search(r"## Check the NumPy you already have.*?```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


# What the README block's measuring commands add here: small, and measured on a machine CI shares.
INSTALLED_RUN = {"threadmap": " --calls solve --sizes 2,64 --rounds 2 --allow-busy",
                 "scaling": " --allow-busy --rungs 4-contiguous --profile-rungs --experiments"}


@pytest.mark.slow
def test_readme_check_the_numpy_you_already_have_in_a_bare_environment(tmp_path):
    """README's block verbatim in a new virtual environment holding PyPI's NumPy and SciPy and nothing
    else: its install line brings what the commands need (the map's report was lost to a missing
    matplotlib after 166 s of measuring; the network needs numexpr), verify notes the wheels' two
    bundled OpenBLAS for what they are and passes on its timing probe, and the map and the smoke sweep
    write their reports (without pytest, the network's tests are skipped, saying so)."""
    from test_build import new_virtualenv

    from blasbench import pins

    python = new_virtualenv(tmp_path / "venv")
    subprocess.run([python, "-m", "pip", "install", "-q", f"numpy=={pins.NUMPY}", f"scipy=={pins.SCIPY}"], check=True)
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".nox", ".git", "reports", "*.egg-info", "build"))
    env = {**os.environ, "PATH": f"{Path(python).parent}:{os.environ['PATH']}"}
    outputs = []
    for command in installed_block((ROOT / "README.md").read_text()):
        words = command.split()
        command += INSTALLED_RUN.get(words[3] if len(words) > 3 else "", "")
        run = subprocess.run(command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        outputs.append((command, run))
        # PyPI's two OpenBLAS are noted, and verify answers whether the BLAS is parallel (3 if the shared machine
        # was too busy to time it)
        expected = (0, 3) if "blasbench.verify" in command else (0,)
        assert run.returncode in expected, (command, run.stdout[-2000:], run.stderr[-2000:])
    verify_out = outputs[1][1].stdout
    assert "[NOTE] one BLAS, and it is openblas" in verify_out and "[FAIL] one BLAS" not in verify_out
    assert "each bundle their own OpenBLAS: two libraries, two thread pools" in verify_out
    assert "shadows the build" not in verify_out
    reports = clone / "reports"
    assert (reports / "threadmap.md").exists() and (reports / "scaling.md").exists() and (reports / "index.md").exists()
    assert "pytest is not installed here, so the network's correctness tests did not run" in outputs[3][1].stderr


def test_a_measuring_child_of_the_same_python_imports_the_code_its_parent_runs_from_a_clone_not_installed(tmp_path):
    """``python -m blasbench`` in a clone where the package is not installed (the lent 16-core machine
    ran it so): the map's processes, started in an empty directory, must import the same files as
    the parent, not fail to import blasbench (nor import another installed copy)."""
    clone = tmp_path / "clone"
    for package in ("blasbench", "nn"):
        shutil.copytree(ROOT / package, clone / package, ignore=shutil.ignore_patterns("__pycache__"))
    parent = ("import sys; sys.path.insert(0, sys.argv[1]); from blasbench.measuring.sweep import run_fresh; "
              "run = run_fresh([sys.executable, '-c', 'import blasbench; print(blasbench.__file__)']); "
              "print(run.stdout, run.stderr)")
    out = subprocess.run([sys.executable, "-c", parent, str(clone)], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == str(clone / "blasbench" / "__init__.py"), out
