"""Sessions: build-openblas, verify, scaling, bench, threadmap, compare-variants, compare, report, tests,
container, cluster.

Options go after ``--`` and are parsed by the package's own command line
(``python -m blasbench COMMAND --help`` lists them). Each session's dependencies are a
dependency group of pyproject.toml.
"""

import nox

nox.needs_version = ">=2025.2.9"  # nox.project.dependency_groups
nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def blasbench(session: nox.Session, command: str, *groups: str) -> None:
    # `--peers torch` or `--peers=torch` (scaling, bench): PyTorch comes from the peers group
    if any(arg.removeprefix("--peers=") == "torch" for arg in session.posargs):
        groups += ("peers",)
    session.install(".", *nox.project.dependency_groups(PYPROJECT, *groups) if groups else ())
    # After Ctrl-C the command keeps what it measured and renders the reports: give it the time
    # (nox's default sends SIGTERM 0.3 s after the interrupt).
    session.run("python", "-m", "blasbench", command, *session.posargs, interrupt_timeout=60)


@nox.session(name="build-openblas", reuse_venv=True)
def build_openblas(session: nox.Session) -> None:
    """Compile NumPy and SciPy from source against OpenBLAS (cached), install and verify them,
    and write reports/build.md."""
    blasbench(session, "build")


@nox.session(reuse_venv=True)
def verify(session: nox.Session) -> None:
    """Install the build (from the cache) and check that it runs BLAS in parallel."""
    blasbench(session, "verify")


@nox.session(reuse_venv=True)
def scaling(session: nox.Session) -> None:
    """On the build: the network's tests, the profiling and thread-scaling sweeps, and the
    Markdown reports under reports/ (`-- --quick` for a smoke run; `-- --peers torch` installs
    PyTorch and sweeps it beside the rungs)."""
    blasbench(session, "scaling", "network-tests")


@nox.session(reuse_venv=True)
def bench(session: nox.Session) -> None:
    """One cost-and-gradient per rung at 1 and all threads, as a share of the DGEMM rate and against
    PyTorch (`-- --peers torch` installs it: the peers dependency group)."""
    blasbench(session, "bench")


@nox.session(reuse_venv=True)
def threadmap(session: nox.Session) -> None:
    """NumPy's and SciPy's calls timed over sizes and thread counts on the build: where BLAS threads
    pay, where they make a call slower, and what to set (reports/threadmap.md)."""
    blasbench(session, "threadmap")


@nox.session(name="compare-variants", reuse_venv=True)
def compare_variants(session: nox.Session) -> None:
    """System OpenBLAS pthread/openmp/serial, PyPI's wheels and the reference BLAS (and a
    site.cfg prefix with `-- --site-cfg FILE`) on the same workload: reports/variants.md."""
    blasbench(session, "compare-variants", "plotting")


@nox.session
def compare(session: nox.Session) -> None:
    """Merge result directories of several runs, machines or commits: `-- DIR_A DIR_B ...`
    writes reports/compare/compare.md, flagging differences beyond the runs' noise."""
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
    """Run a command (scaling, bench, compare-variants, verify) on every node of a Slurm cluster,
    one job-array task per node, and merge the results: `-- --partition P --nodes N bench ...`."""
    blasbench(session, "cluster", "cluster")


@nox.session
def container(session: nox.Session) -> None:
    """Build the Docker/Podman image (reusing the host's wheelhouse) and run the pipeline in it;
    `-- --local-base` makes the Debian base image with debootstrap where no registry is reachable."""
    blasbench(session, "container")
