"""What every provider shares: the description of a BLAS library (:class:`BLASLibrary`), read by
threadpoolctl in a clean child process; the pkg-config file that tells meson about it; and the
:class:`Provider` base, whose ``ensure()`` makes a library available and describes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ... import UserError, last_line
from ...store import atomic_write_text, cache_dir

# Runs in a fresh interpreter so that describing a library never loads it into the caller.
_PROBE = r"""
import ctypes, json, os, sys
import threadpoolctl
path = os.path.realpath(sys.argv[1])
ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
[ctl] = [c for c in threadpoolctl.ThreadpoolController().lib_controllers
         if os.path.realpath(c.filepath) == path]
config = ""
for symbol in ("openblas_get_config", "scipy_openblas_get_config64_", "scipy_openblas_get_config"):
    fn = getattr(ctl.dynlib, symbol, None)
    if fn is not None:
        fn.restype = ctypes.c_char_p
        config = fn().decode()
        break
print(json.dumps({"info": ctl.info(), "config": config}))
"""


@dataclass(frozen=True)
class BLASLibrary:
    """What the build and the verification need to know about one BLAS/LAPACK library
    (an OpenBLAS, except for the reference provider's floor)."""

    provider: str
    flavour: str
    pkg_config_name: str  # the dependency name meson looks up
    pkg_config_dir: str  # holds <pkg_config_name>.pc
    pc_text: str
    library: str  # real path of the shared library the built modules must load
    version: str
    threading_layer: str  # as threadpoolctl reports it: pthreads, openmp, disabled (OpenBLAS, BLIS); intel, gnu, sequential (MKL)
    config: str  # openblas_get_config()
    architecture: str  # the core type the library picked on this CPU
    ilp64: bool  # 64-bit integers; every provider here is LP64, recorded because it changes the binary
    companions: tuple[str, ...] = ()  # other files of the provider the modules load (BLIS's LAPACK)
    origin: dict = field(default_factory=dict)  # where a compiled library's source came from, with its sha256

    @property
    def label(self) -> str:
        return f"{self.provider}-{self.flavour}"

    def meson_args(self, package: str = "numpy") -> list[str]:
        """The ``-Csetup-args`` that make NumPy/SciPy link this BLAS and nothing else."""
        name = self.pkg_config_name
        if package == "scipy" and name == "scipy-openblas":
            # SciPy 1.17 has no branch for -Dblas=scipy-openblas (meson: Unknown variable "blas");
            # -Dblas=openblas looks for scipy-openblas.pc first, and verification checks which it took.
            name = "openblas"
        args = [
            f"-Dblas={name}",
            f"-Dlapack={name}",
            f"-Dpkg_config_path={self.pkg_config_dir}",
        ]
        if package == "numpy":  # SciPy has no fallback to disable: it always needs BLAS
            args.append("-Dallow-noblas=false")
        return args

    def key_material(self) -> dict:
        """The parts that change a binary built against it (not the core type: that is runtime)."""
        material = asdict(self)
        # chosen at run time / where the cache is / implied by the .pc text (whose prefix is keyed by the source)
        del material["architecture"], material["pkg_config_dir"], material["companions"], material["origin"]
        # A DYNAMIC_ARCH build names the core it picked at run time inside its config string.
        material["config"] = " ".join(w for w in self.config.split() if w != self.architecture)
        # Hashed as first spelt: the flavour was once called "variant", and renaming a key's field changes every key.
        material["variant"] = material.pop("flavour")
        return material

    def as_dict(self) -> dict:
        return asdict(self)


# Run-time settings that would change what the probe reports (a preloaded library's config, a
# forced core type): the description, hence the build key, depends on the library alone.
_RUNTIME_PREFIXES = ("LD_PRELOAD", "LD_LIBRARY_PATH", "OPENBLAS_", "GOTO", "OMP_", "GOMP_", "MKL_", "BLIS_")


def build_environment() -> dict:
    """This process's environment without the run-time settings of any BLAS or loader."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_RUNTIME_PREFIXES)}


def describe_library(library: Path) -> dict:
    """Version, threading layer, core type and (OpenBLAS's) build config of the BLAS at
    ``library``, as threadpoolctl reads them in a clean child process."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(library)], capture_output=True, text=True, env=build_environment()
    )
    if result.returncode != 0:
        last = last_line(result.stderr)
        raise UserError(f"{library} could not be loaded as a BLAS threadpoolctl knows ({last}).")
    probe = json.loads(result.stdout)
    return {
        "version": probe["info"]["version"] or "unknown",
        "threading_layer": probe["info"]["threading_layer"],
        "architecture": probe["info"].get("architecture") or "unknown",
        "config": probe["config"],
    }


def render_pc(name: str, version: str, lib_dirs: list[str], libraries: list[str],
              include_dirs: list[str], runtime_dirs: list[str], description: str = "OpenBLAS") -> str:
    """A pkg-config file; ``-Wl,-rpath`` makes the built modules load from ``runtime_dirs``
    whatever the dynamic loader's defaults or Debian's alternatives say. A library is a name
    (``-l``), a file's path, or a linker flag, kept in order."""
    libs = [f"-L{d}" for d in lib_dirs] + [f"-Wl,-rpath,{d}" for d in runtime_dirs]
    libs += [lib if lib.startswith(("/", "-")) else f"-l{lib}" for lib in libraries]
    cflags = [f"-I{d}" for d in include_dirs]
    return (
        f"Name: {name}\nDescription: {description} described by blasbench\nVersion: {version}\n"
        f"Libs: {' '.join(libs)}\nCflags: {' '.join(cflags)}\n"
    )


class Provider:
    """Makes one BLAS library available and describes it. A subclass names itself, its
    flavours (the first is the default; none when it has no choice) and a one-line summary,
    and joins ``PROVIDERS``: the command line's choices and help come from there."""

    name: str
    flavours: tuple[str, ...] = ()
    summary: str
    api: str | None = "openblas"

    @classmethod
    def from_options(cls, flavour: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls()

    def ensure(self) -> BLASLibrary:
        raise NotImplementedError

    def finish(self, flavour: str, pkg_config_name: str, pc_label: str, pc_text: str, library: Path | str,
               **fields) -> BLASLibrary:
        """What every ``ensure()`` ends with: the pkg-config file written where meson will look
        (``<cache>/pkgconfig/<pc_label>/<pkg_config_name>.pc``) and the library's description
        (every provider here is LP64)."""
        directory = cache_dir() / "pkgconfig" / pc_label
        atomic_write_text(directory / f"{pkg_config_name}.pc", pc_text)
        return BLASLibrary(provider=self.name, flavour=flavour, pkg_config_name=pkg_config_name,
                           pkg_config_dir=str(directory), pc_text=pc_text, library=os.path.realpath(library),
                           ilp64=False, **fields)
