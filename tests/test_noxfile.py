"""The sessions' dependency groups (pyproject.toml) must pin what the package pins for the builds."""

import tomllib
from pathlib import Path

from blasbench import pins

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def test_the_sessions_pin_the_same_versions_as_the_package():
    groups = {name: [r for r in group if isinstance(r, str)] for name, group in PYPROJECT["dependency-groups"].items()}
    assert set(groups["plotting"]) <= set(pins.RUNTIME) and groups["pins"] == list(pins.PROJECT)
    assert {f"numpy=={pins.NUMPY}", f"scipy=={pins.SCIPY}"} <= set(groups["test"])
    runtime = {r.split("==")[0]: r for r in pins.RUNTIME}
    pinned = [r for r in groups["test"] if r.split("==")[0] in runtime]
    assert all(runtime[r.split("==")[0]] == r for r in pinned)


def test_every_package_of_the_source_is_installed():
    """The installed project must hold every subpackage (setuptools' list is explicit)."""
    root = Path(__file__).resolve().parent.parent
    found = {".".join(p.parent.relative_to(root).parts) for p in root.glob("*/**/__init__.py")
             if p.parent.relative_to(root).parts[0] in ("blasbench", "nn")}
    assert found == set(PYPROJECT["tool"]["setuptools"]["packages"])


def test_asking_for_the_torch_peer_in_either_spelling_installs_the_peers_group(monkeypatch):
    """`-- --peers torch` and `-- --peers=torch` both install PyTorch (the second once did not)."""
    import importlib.util

    import nox

    # loaded from its file, as nox does (in the repository, where it reads pyproject.toml): `pytest`,
    # unlike `python -m pytest`, does not put the repository on sys.path
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    spec = importlib.util.spec_from_file_location("noxfile", root / "noxfile.py")
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)

    peers = set(nox.project.dependency_groups(noxfile.PYPROJECT, "peers"))
    for posargs in (["--peers", "torch"], ["--quick", "--peers=torch"], ["--quick"]):
        installed = []
        session = type("Session", (), {"posargs": posargs, "install": lambda self, *a: installed.extend(a),
                                       "run": lambda self, *a, **k: None})()
        noxfile.scaling.func(session)
        assert (peers <= set(installed)) == ("torch" in " ".join(posargs)), (posargs, installed)


def pinned_names() -> dict[str, list[str]]:
    """Every ``name==version`` written in the files that pin: where each package's pins are."""
    import re

    root = Path(__file__).resolve().parent.parent
    texts = {path: (root / path).read_text() for path in ("pyproject.toml", "blasbench/pins.py", "Dockerfile", ".ci/run")}
    found: dict[str, list[str]] = {}
    for path, text in texts.items():
        for name in re.findall(r"[\"'\s]([A-Za-z][A-Za-z0-9_.-]*)==[0-9]", text):
            found.setdefault(name.lower(), []).append(path)
    return found


# Dependency groups cannot read pins.py, which the installed package needs at run time: these are
# written in both, and test_the_sessions_pin_the_same_versions_as_the_package keeps them equal.
GROUPS_AND_PACKAGE = {"numexpr", "matplotlib", "threadpoolctl", "tqdm"}


def test_every_pin_is_written_once():
    twice = {name: places for name, places in pinned_names().items() if len(places) > 1 and name not in GROUPS_AND_PACKAGE}
    assert not twice, f"pinned in more than one place: {twice}"
    assert pinned_names()["nox"] == ["pyproject.toml"]  # .ci/run and the Dockerfile read it from there


def test_the_blasbench_command_runs_the_command_line_and_exits_with_its_status(monkeypatch, capsys):
    """`pip install .` gives a `blasbench` command (pyproject's [project.scripts]): the entry it names exists and
    exits with what the command line returns (here 2: a bad option is one line, not a traceback)."""
    import importlib

    import pytest

    module, _, name = PYPROJECT["project"]["scripts"]["blasbench"].partition(":")
    entry = getattr(importlib.import_module(module), name)
    monkeypatch.setattr("sys.argv", ["blasbench", "compare", "only-one-directory"])
    with pytest.raises(SystemExit) as stopped:
        entry()
    assert stopped.value.code == 2 and "compare needs two or more result directories" in capsys.readouterr().err
