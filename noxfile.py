"""Sessions: build-openblas, verify, scaling, report, tests.

Options go after ``--``; each session passes them to the package's own command line
(``python -m blasbench ... --help`` lists them).
"""

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"

PYPI_NUMPY = ("numpy==2.4.6", "scipy==1.17.1")  # only for the project's own tests


@nox.session(name="build-openblas", reuse_venv=True)
def build_openblas(session: nox.Session) -> None:
    """Compile NumPy and SciPy from source against OpenBLAS (cached), install and verify them,
    and write reports/build.md."""
    session.install(".")
    session.run("python", "-m", "blasbench", "build", *session.posargs)


@nox.session(reuse_venv=True)
def verify(session: nox.Session) -> None:
    """Check that this project's build runs BLAS in parallel (same options as build-openblas)."""
    session.install(".")
    session.run("python", "-m", "blasbench", "build", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Render every Markdown report again from the JSON results, without rerunning anything."""
    session.install(".")
    session.run("python", "-m", "blasbench", "report", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own test suite; `-- --slow` adds the real build, full training and sweeps."""
    session.install(".[test]", *PYPI_NUMPY)
    session.run("pytest", *session.posargs)
