"""The sessions' dependency groups (pyproject.toml) must pin what the package pins for the builds."""

from pathlib import Path

import tomllib

from blasbench import pins

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def test_the_sessions_pin_the_same_versions_as_the_package():
    groups = {name: [r for r in group if isinstance(r, str)] for name, group in PYPROJECT["dependency-groups"].items()}
    assert set(groups["plotting"]) <= set(pins.RUNTIME)
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
    import nox

    import noxfile

    peers = set(nox.project.dependency_groups(noxfile.PYPROJECT, "peers"))
    for posargs in (["--peers", "torch"], ["--quick", "--peers=torch"], ["--quick"]):
        installed = []
        session = type("Session", (), {"posargs": posargs, "install": lambda self, *a: installed.extend(a),
                                       "run": lambda self, *a, **k: None})()
        noxfile.scaling.func(session)
        assert (peers <= set(installed)) == ("torch" in " ".join(posargs)), (posargs, installed)
