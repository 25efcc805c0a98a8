"""What this machine has and how to add to it: the multiarch triplet, Debian packages (apt-get, the
mirror apt uses, a suite's sources), and the compilers. Both the providers and the build use these;
neither owns them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .. import UserError


def triplet() -> str:
    return sysconfig.get_config_var("MULTIARCH") or f"{os.uname().machine}-linux-gnu"


def apt_install(packages: list[str], what: str) -> None:
    """Install Debian packages when running as root with apt-get, else say the exact command."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise UserError(f"{what} is not installed: run `sudo {' '.join(command)}` (or pick another --setup).")
    print(f"Installing {' '.join(packages)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        if subprocess.run(command, env=env).returncode != 0:
            raise UserError(f"`{' '.join(command)}` failed: see apt-get's message above.")



def debian_source_lists(mirror: str, suite: str, directory: Path) -> list[str]:
    """apt-get options that read only a ``deb-src`` line for ``suite`` on ``mirror`` and keep their
    state in ``directory``: the system's own apt configuration is neither read nor changed."""
    (directory / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (directory / "parts").mkdir(exist_ok=True)
    (directory / "sources.list").write_text(f"deb-src {mirror} {suite} main\n")
    return ["-o", f"Dir::Etc::SourceList={directory / 'sources.list'}", "-o", f"Dir::Etc::SourceParts={directory / 'parts'}",
            "-o", f"Dir::State::Lists={directory / 'lists'}"]


def host_debian_mirror() -> str:
    """The Debian mirror the host's apt uses (deb822 or one-line sources), not the security one."""
    candidates = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]
    for path in filter(Path.exists, candidates):
        text = path.read_text()
        urls = re.findall(r"^URIs:\s*(\S+)", text, re.M)
        urls += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.M)
        for url in urls:
            if "security" not in url:
                return url
    raise UserError("No Debian mirror found in /etc/apt/sources*: pass --mirror URL.")



def first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        return ""
    return out.stdout.splitlines()[0] if out.returncode == 0 and out.stdout else ""


# What compiling NumPy and SciPy needs besides the BLAS: (command or header, Debian package).
BUILD_DEPENDENCIES = (("cc", "gcc"), ("c++", "g++"), ("gfortran", "gfortran"), ("pkg-config", "pkg-config"),
                      ("ccache", "ccache"))


def ensure_build_dependencies() -> None:
    """Compilers, pkg-config, ccache and Python's headers: installed with apt-get when root and
    missing, else the one exact command, before anything long starts."""
    variables = {"cc": "CC", "c++": "CXX", "gfortran": "FC"}  # a user's compiler replaces the default
    for variable in variables.values():
        if (chosen := os.environ.get(variable, "").strip()) and shutil.which(chosen.split()[0]) is None:
            raise UserError(f"{variable}={chosen}: no such compiler on this machine; fix {variable} or unset it.")
    missing = [package for command, package in BUILD_DEPENDENCIES
               if shutil.which(os.environ.get(variables.get(command, ""), command).split()[0]) is None]
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        missing.append(f"python{sys.version_info.major}.{sys.version_info.minor}-dev")
    if missing:
        apt_install(missing, "What compiling NumPy and SciPy needs")


def toolchain() -> dict:
    """Compiler versions; a missing compiler is a clear error, not a failed build 10 minutes in."""
    found = {}
    for role, default, package in (("cc", "cc", "gcc"), ("cxx", "c++", "g++"), ("fortran", "gfortran", "gfortran")):
        command = os.environ.get({"cc": "CC", "cxx": "CXX", "fortran": "FC"}[role], default).split()[0]
        line = first_line([command, "--version"])
        if not line:
            raise UserError(f"No {role} compiler ({command}) found: install it (`apt-get install {package}`).")
        found[role] = line
    found["ccache"] = first_line(["ccache", "--version"])
    return found
