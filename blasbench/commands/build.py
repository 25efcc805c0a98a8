"""``build`` (compile, install, verify, write build.md) and ``verify`` (the same, writing nothing)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from .. import UserError
from ..building.verify import EXIT_STATUS
from ..facts import REBUILDS
from ..render import render_all
from ..results.directory import Results
from ..results.kinds.build import KIND as BUILD
from ..setups import Setup
from .options import (
    add_build_options,
    add_results_options,
    ensure_build,
    on_installed,
    one_setup,
    recorded_build,
    writable_results,
)


def command_build(args: argparse.Namespace, setup: Setup | None = None) -> int:
    """Build ``setup`` (default: the one --setup names), install and verify it, and report it."""
    writable_results(args.results)
    result = recorded_build(args, setup)
    render_all(Results.load(args.results))
    print(f"wrote {args.results / BUILD.file} and {args.results / 'build.md'}")
    status = result["verification"]["status"]
    if status == "inconclusive":
        print("note: the build is installed; its timing probe was inconclusive because the machine is busy "
              "(above). Check it later with `python3 -m nox -s verify`.", file=sys.stderr)
    elif status == "failed":
        if args.allow_unverified:
            print("note: verification failed (above); continuing as --allow-unverified asks.", file=sys.stderr)
        else:
            raise UserError("the build is installed but verification failed (see above).")
    return 0


def command_verify(args: argparse.Namespace) -> int:
    """The build's checks; on ``--setup installed``, the checks of this environment's own NumPy and SciPy."""
    if on_installed(args):
        return subprocess.run([sys.executable, "-m", "blasbench.verify", "--wait-quiet", str(args.wait_quiet),
                               *(["--numpy-only"] if one_setup(args, builds=False).scipy is None else [])]).returncode
    result = ensure_build(args)
    return EXIT_STATUS[result["verification"]["status"]]


def register(commands) -> None:
    build = commands.add_parser("build", help="compile NumPy and SciPy against a BLAS (OpenBLAS by default), install, verify")
    add_build_options(build, "the setup built")
    build.add_argument("--check-reproducible", nargs="?", const="compile", choices=list(REBUILDS), metavar="HOW",
                       help="build every wheel a second time into a temporary directory and say whether the two are "
                            "identical (or which members differ, and where); build.md shows the outcome. HOW: "
                            + "; ".join(f"{how} ({what})" for how, what in REBUILDS.items()) + " (default compile)")
    build.set_defaults(run=command_build)
    verify = commands.add_parser("verify", help="install the build (cached) and verify it, writing nothing")
    add_build_options(verify, "the setup checked; installed: this environment's own NumPy and SciPy", goes_on=False)
    verify.set_defaults(run=command_verify)
    add_results_options(build)
