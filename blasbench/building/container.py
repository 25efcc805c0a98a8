"""Build the project's image with Docker or Podman, and run the pipeline in it.

Where no registry can be reached, the Debian base image is made locally with debootstrap from
the host's own configured Debian mirror (read at run time) and imported under the tag the
Dockerfile expects. On networks whose HTTPS goes through an intercepting proxy, the host's extra
CA certificates can be added to that local base image (opt-in; the shipped Dockerfile never
carries them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import UserError, last_line
from ..facts import THREAD_VARIABLES
from ..store import cache_dir
from .build import MANIFEST, wheelhouse
from .host import host_debian_mirror

BASE_TAG = "debian:bookworm-slim"
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def find_engine(explicit: str | None = None) -> list[str]:
    """The engine's command (``docker`` or ``podman``, honouring DOCKER_HOST), checked to answer."""
    names = [explicit] if explicit else ["docker", "podman"]
    for name in names:
        if shutil.which(name):
            probe = subprocess.run([name, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
            if probe.returncode == 0:
                return [name]
            raise UserError(f"`{name}` is installed but no engine answers ({last_line(probe.stderr)}): start it, "
                            "e.g. `sudo systemctl start docker` or `sudo dockerd &`, or set DOCKER_HOST.")
    if explicit:
        package = "docker.io" if explicit == "docker" else explicit
        raise UserError(f"`{explicit}` is not installed: `sudo apt-get install {package}`, "
                        "or leave out --engine to use whichever is installed.")
    raise UserError("Neither docker nor podman is installed: `sudo apt-get install docker.io` (or podman).")


def image_exists(engine: list[str], tag: str) -> bool:
    return subprocess.run([*engine, "image", "inspect", tag], capture_output=True).returncode == 0


def make_base_image(engine: list[str], tag: str = BASE_TAG, extra_ca: bool = False) -> None:
    """debootstrap a minimal Debian (the suite named by the tag) and import it as ``tag``."""
    if shutil.which("debootstrap") is None:
        raise UserError("debootstrap is needed to make the base image locally: `sudo apt-get install debootstrap`.")
    suite = tag.split(":")[-1].split("-")[0]  # debian:bookworm-slim -> bookworm
    mirror = host_debian_mirror()
    with tempfile.TemporaryDirectory(prefix="blasbench-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        print(f"debootstrap {suite} from {mirror} ...", flush=True)
        run = subprocess.run(["debootstrap", "--variant=minbase", suite, str(rootfs), mirror],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise UserError(f"debootstrap failed ({last_line(run.stdout + run.stderr)}): check the host's Debian mirror "
                            "and that you are root.")
        changes = []
        if extra_ca:
            certificates = sorted(EXTRA_CA_DIR.glob("*.crt"))
            target = rootfs / EXTRA_CA_DIR.relative_to("/")
            target.mkdir(parents=True, exist_ok=True)
            for certificate in certificates:
                shutil.copy(certificate, target)
            # installing ca-certificates in the image adds them to the system bundle; point pip at it
            changes = ["--change", f"ENV PIP_CERT={SYSTEM_CA_BUNDLE}", "--change", f"ENV SSL_CERT_FILE={SYSTEM_CA_BUNDLE}"]
            print(f"added {len(certificates)} CA certificate(s) from {EXTRA_CA_DIR} to the local base image", flush=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run([*engine, "import", *changes, "-", tag], stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        tar.wait()
        if imported.returncode != 0:
            raise UserError(f"importing the base image failed: {last_line(imported.stderr)}")
    print(f"base image {tag} made locally", flush=True)


def stage_cache(context: Path) -> int:
    """Copy the host's finished wheelhouse entries and sdists into the build context, so the
    image reuses what was built here under the same keys; returns the number of wheels staged."""
    staged = context / ".container" / "cache"
    shutil.rmtree(staged, ignore_errors=True)
    entries = [d for d in wheelhouse().glob("[!.]*") if (d / MANIFEST).exists()] if wheelhouse().exists() else []
    for entry in entries:
        shutil.copytree(entry, staged / "wheelhouse" / entry.name)
    sdists = cache_dir() / "sdists"
    if sdists.exists():
        shutil.copytree(sdists, staged / "sdists", ignore=shutil.ignore_patterns("*.part*"))
    return len(entries)


def build_image(engine: list[str], context: Path, tag: str, flavour: str, base: str = BASE_TAG) -> None:
    command = [*engine, "build", "--network", "host", "--build-arg", f"OPENBLAS_FLAVOUR={flavour}",
               "--build-arg", f"BASE={base}", "-t", tag, str(context)]
    print("$ " + " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise UserError(f"building {tag} failed (see the engine's output above).")


def run_image(engine: list[str], tag: str, reports: Path, command: list[str] | None = None,
              cpus: str | None = None) -> None:
    """Run the image offline with the host's thread settings passed through, reports written to
    ``reports`` as the host's user."""
    reports.mkdir(parents=True, exist_ok=True)
    passed = [arg for name in THREAD_VARIABLES + ("OPENBLAS_CORETYPE",) if name in os.environ
              for arg in ("-e", name)]
    limits = ["--cpuset-cpus", cpus] if cpus else []
    run = [*engine, "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}", *limits, *passed,
           "-v", f"{reports.resolve()}:/work/reports", tag, *(command or [])]
    print("$ " + " ".join(run), flush=True)
    if subprocess.run(run).returncode != 0:
        raise UserError(f"the pipeline in {tag} failed (see its output above); reports so far are in {reports}.")


def main_container(engine_name: str | None, context: Path, flavour: str, local_base: bool, wheelhouse: bool,
                   command: str | None, cpus: str | None, results: Path) -> int:
    """Build the image of ``context`` (the repository) with Debian's OpenBLAS in ``flavour``, its base
    made locally where asked or missing (with the host's extra CA certificates, where it has any), and
    run the pipeline (or ``command``) in it, its reports into ``results``."""
    engine = find_engine(engine_name)
    context = Path(context).resolve()
    if local_base or not image_exists(engine, BASE_TAG):
        if not local_base:
            print(f"{BASE_TAG} is not present; making it locally (--local-base) ...", file=sys.stderr)
        make_base_image(engine, BASE_TAG, extra_ca=any(EXTRA_CA_DIR.glob("*.crt")))
    staged = stage_cache(context) if wheelhouse else 0
    print(f"staged {staged} wheelhouse entr{'y' if staged == 1 else 'ies'} into the build context", flush=True)
    tag = f"blasbench:{flavour}"
    try:
        build_image(engine, context, tag, flavour, BASE_TAG)
    finally:
        shutil.rmtree(context / ".container", ignore_errors=True)
    run_image(engine, tag, results, command.split() if command else None, cpus)
    print(f"reports from the container: {results}")
    return 0
