"""Sessions: build-openblas, verify, scaling, bench, threadmap, compare, report, tests,
container, cluster.

Options go after ``--`` and are parsed by the package's own command line
(``python -m blasbench COMMAND --help`` lists them). Each session's dependencies are a
dependency group of pyproject.toml.
"""

import nox

nox.needs_version = ">=2025.2.9"  # nox.project.dependency_groups
nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "virtualenv"  # nox's own dependency; seeds pip in about 1 s where venv's ensurepip takes 5-7

PYPROJECT = nox.project.load_toml("pyproject.toml")


def blasbench(session: nox.Session, command: str, *groups: str) -> None:
    # `--peers torch` or `--peers=torch` (scaling, bench): PyTorch comes from the peers group
    if any(arg.removeprefix("--peers=") == "torch" for arg in session.posargs):
        groups += ("peers",)
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "pins", *groups))
    # After Ctrl-C the command keeps what it measured and renders the reports: give it the time
    # (nox's default sends SIGTERM 0.3 s after the interrupt).
    session.run("python", "-m", "blasbench", command, *session.posargs, interrupt_timeout=60)


@nox.session(name="build-openblas", reuse_venv=True)
def build_openblas(session: nox.Session) -> None:
    """Compile NumPy and SciPy against a BLAS (cached), install and verify them: reports/build.md.

    Debian's OpenBLAS by default; `-- --setup KIND[:FLAVOUR]` picks another (see docs/building.md)."""
    blasbench(session, "build")


@nox.session(reuse_venv=True)
def verify(session: nox.Session) -> None:
    """Install the build (from the cache) and check that it runs BLAS in parallel."""
    blasbench(session, "verify")


@nox.session(reuse_venv=True)
def scaling(session: nox.Session) -> None:
    """The network's tests, profiling and thread-scaling sweeps on the build: reports/index.md.

    `-- --quick` for a smoke run; `-- --peers torch` installs PyTorch and sweeps it beside the rungs;
    `-- --setup system:pthread pypi blis ...` sweeps several setups side by side: reports/setups.md."""
    blasbench(session, "scaling", "network-tests", "plotting")  # plotting: a release axis installs no build


@nox.session(reuse_venv=True)
def bench(session: nox.Session) -> None:
    """One cost-and-gradient per rung at 1 and all threads, against the DGEMM rate: reports/bench.md.

    `-- --peers torch` measures PyTorch beside them, installed from the peers dependency group."""
    blasbench(session, "bench")


@nox.session(reuse_venv=True)
def threadmap(session: nox.Session) -> None:
    """Where BLAS threads pay and where they slow NumPy's and SciPy's calls: reports/threadmap.md.

    Each call timed over sizes and thread counts on the build, and what to set where threads hurt."""
    blasbench(session, "threadmap", "plotting")  # a release axis of NumPy's wheels installs no build, and no matplotlib with it


@nox.session
def compare(session: nox.Session) -> None:
    """Result directories of several runs or machines side by side: reports/compare/compare.md.

    `-- DIR_A DIR_B ...`; differences beyond the runs' noise are flagged."""
    blasbench(session, "compare")


@nox.session
def report(session: nox.Session) -> None:
    """Render every Markdown report again from the JSON results, without rerunning anything."""
    blasbench(session, "report", "plotting")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own test suite; `-- --slow` adds the real build, training and sweep."""
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session
def cluster(session: nox.Session) -> None:
    """Run a command on every node of a Slurm cluster and merge the results.

    `-- --nodes N COMMAND ...` (sbatch's own SBATCH_PARTITION, ... choose the rest), COMMAND one of
    scaling, bench, threadmap, verify; one job-array task per node."""
    blasbench(session, "cluster", "cluster")


@nox.session
def container(session: nox.Session) -> None:
    """Build the Docker or Podman image and run the pipeline in it.

    The host's wheelhouse is reused; `-- --local-base` makes the Debian base image with debootstrap
    where no registry is reachable."""
    blasbench(session, "container")
