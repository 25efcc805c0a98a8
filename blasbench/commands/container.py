"""``container``: build the image (Docker or Podman) and run the pipeline in it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import UserError
from ..building.container import main_container
from ..measuring.variants import project_root
from .options import add_setup_option, chosen_setups


def command_container(args: argparse.Namespace) -> int:
    """The image holds Debian's OpenBLAS in the flavour the setup names."""
    setups = chosen_setups(args)
    if len(setups) > 1 or setups[0].kind != "system":
        raise UserError(f"--setup {' '.join(map(str, setups))}: the image builds against Debian's OpenBLAS: "
                        "--setup system:pthread, system:openmp or system:serial.")
    return main_container(args.engine, project_root(), setups[0].flavour, args.local_base, not args.no_wheelhouse,
                          args.command, args.cpus, args.results)


def register(commands) -> None:
    container = commands.add_parser("container", help="build the image (docker or podman) and run the pipeline in it")
    add_setup_option(container, what="the setup built in the image, Debian's OpenBLAS in a flavour")
    container.add_argument("--engine", choices=("docker", "podman"), help="default: whichever answers first")
    container.add_argument("--local-base", action="store_true",
                           help="make the base image locally with debootstrap from the host's Debian mirror, with the "
                                "host's extra CA certificates (no registry needed; also done when the base is missing)")
    container.add_argument("--no-wheelhouse", action="store_true",
                           help="do not reuse the host's wheelhouse: compile in the image")
    container.add_argument("--cpus", help="CPUs given to the container, e.g. 0-1 (default: all)")
    container.add_argument("--command", help="run this instead of the image's default (e.g. 'python -m nox -R -s verify')")
    container.add_argument("--results", type=Path, default=Path("reports") / "container",
                           help="where the container's reports land (default reports/container)")
    container.set_defaults(run=command_container)
