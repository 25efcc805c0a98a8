"""``container``: build the image (Docker or Podman) and run the pipeline in it."""

from __future__ import annotations

from pathlib import Path

from ..building.container import BASE_TAG, main_container
from ..building.providers import SYSTEM_FLAVOURS


def register(commands) -> None:
    container = commands.add_parser("container", help="build the image (docker or podman) and run the pipeline in it")
    container.add_argument("--flavour", choices=SYSTEM_FLAVOURS, default="pthread",
                           help="Debian OpenBLAS flavour in the image (default pthread)")
    container.add_argument("--engine", choices=("docker", "podman"), help="default: whichever answers first")
    container.add_argument("--tag", help="image tag (default blasbench:<flavour>)")
    container.add_argument("--base", default=BASE_TAG, help=f"base image (default {BASE_TAG})")
    container.add_argument("--local-base", action="store_true",
                           help="make the base image locally with debootstrap (no registry needed)")
    container.add_argument("--mirror", help="Debian mirror for --local-base (default: the host's apt mirror)")
    container.add_argument("--extra-ca", action="store_true",
                           help="add the host's extra CA certificates to the local base image (intercepting proxies)")
    container.add_argument("--no-wheelhouse", action="store_true",
                           help="do not reuse the host's wheelhouse: compile in the image")
    container.add_argument("--cpus", help="CPUs given to the container, e.g. 0-1 (default: all)")
    container.add_argument("--command", help="run this instead of the image's default (e.g. 'python -m nox -R -s verify')")
    container.add_argument("--context", type=Path, default=Path("."), help="build context (default: the repository)")
    container.add_argument("--results", type=Path, default=Path("reports") / "container",
                           help="where the container's reports land (default reports/container)")
    container.set_defaults(run=main_container)
