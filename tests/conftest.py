import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def group(name: str) -> list[str]:
    """The pins of one of pyproject.toml's dependency groups (their one place)."""
    return [r for r in PYPROJECT["dependency-groups"][name] if isinstance(r, str)]


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run tests marked slow (real builds, full training)")
    parser.addoption("--all-providers", action="store_true",
                     help="with --slow, the full tier: NumPy *and SciPy* against every provider, and NumPy compiled "
                          "a second time without ccache (cold: hours on 2 cores)")


def pytest_sessionstart(session):
    session.config.stash[STARTED] = time.time()


STARTED = pytest.StashKey[float]()


def pytest_collection_modifyitems(config, items):
    # the quick tests first, while the default build compiles beside them (see pytest_collection_finish); the
    # build budget's check after every test that may compile (a stable sort keeps the rest's order)
    items.sort(key=lambda item: (item.get_closest_marker("after_builds") is not None, "slow" in item.keywords))
    if not config.getoption("--slow"):
        skip = pytest.mark.skip(reason="slow: run with --slow")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)
    elif not config.getoption("--all-providers"):
        skip = pytest.mark.skip(reason="the full tier (every provider's SciPy, NumPy compiled twice, the costliest runs): "
                                   "--slow --all-providers")
        for item in items:
            if "all_providers" in item.keywords:
                item.add_marker(skip)


# The default build's wheels (NumPy and SciPy: 25-30 minutes on 2 cores with an empty cache), compiled by
# the product's own code into the wheelhouse; a test that needs them finds them there, or waits on the
# build's lock, saying so. The quick tests (sorted first) run beside the compile: they take a core from it
# for their 3 minutes, and the single-threaded setup before the compile starts overlaps with them too;
# nothing is timed on the build before the build is there.
def prebuild(build_all=None) -> None:
    """The default setup's wheels into the wheelhouse, by the product's own code (``build_all``: a
    stand-in's only for the quick test that this still names the product's functions)."""
    from blasbench.building import build
    from blasbench.building.providers import setup_provider
    from blasbench.setups import DEFAULT_SETUP

    (build_all or build.build_all)(setup_provider(DEFAULT_SETUP).ensure(), DEFAULT_SETUP.numpy, DEFAULT_SETUP.scipy)


PREBUILD = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import conftest; conftest.prebuild()"
BUILDING = pytest.StashKey[subprocess.Popen]()


def pytest_collection_finish(session):
    """With slow tests to run, start the default build at once (a no-op where the wheelhouse has it)."""
    if session.config.option.collectonly:
        return
    if any("slow" in item.keywords and not item.get_closest_marker("skip") for item in session.items):
        from blasbench.store import cache_dir

        log = cache_dir() / "logs" / "tests-prebuild.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            session.config.stash[BUILDING] = subprocess.Popen([sys.executable, "-c", PREBUILD], stdout=out, stderr=out,
                                                               stdin=subprocess.DEVNULL, start_new_session=True)


def pytest_sessionfinish(session):
    """A build no test waited for (a few tests selected, or a stop) is not left compiling; one that
    failed is said (the tests then built it one after another, without the overlap)."""
    building = session.config.stash.get(BUILDING, None)
    if building is not None and building.poll() is None:
        os.killpg(building.pid, signal.SIGTERM)
        building.wait()
    elif building is not None and building.returncode != 0:
        from blasbench.store import cache_dir

        print(f"\nthe background build failed (exit {building.returncode}): see {cache_dir() / 'logs' / 'tests-prebuild.log'}",
              file=sys.stderr)


@pytest.fixture(autouse=True)
def no_apt_get_in_quick_tests(request, monkeypatch):
    """A quick test never installs Debian packages: one that needs a missing package is skipped,
    naming it (.ci/run installs them for the slow tier)."""
    if request.node.get_closest_marker("slow"):
        return
    import os

    from blasbench.building import host
    from blasbench.building.providers import debian, source

    real = host.apt_install

    def refuse(packages, what):
        if os.geteuid() != 0:  # apt_install then only says the command; it installs nothing
            return real(packages, what)
        pytest.skip(f"{what} is not installed, and a quick test never runs apt-get ({' '.join(packages)})")

    for module in (host, debian, source):
        monkeypatch.setattr(module, "apt_install", refuse)


@pytest.fixture(scope="session")
def session_started(pytestconfig) -> float:
    """When this test session started (what a test counts builds since)."""
    return pytestconfig.stash[STARTED]


@pytest.fixture(scope="session")
def mnist_small():
    """2,000 training and 1,000 cross-validation examples of the real MNIST."""
    from nn.data import load_packaged, seed_splits

    data = load_packaged()
    train_set, cv_set, _ = seed_splits(data, train_size=2000, cv_size=1000, seed=0)
    return train_set, cv_set
