"""Libraries from Debian's packages, each linked from its own directory so that Debian's
alternatives never change which one loads: OpenBLAS in its threading flavours, the netlib
reference BLAS/LAPACK (the floor), and BLIS with the reference LAPACK (a rival).
"""

from __future__ import annotations

import os
from pathlib import Path

from ... import UserError
from ..host import apt_install, triplet
from .base import BLASLibrary, Provider, describe_library, render_pc

SYSTEM_FLAVOURS = ("pthread", "openmp", "serial")


class SystemProvider(Provider):
    """Debian/Ubuntu's OpenBLAS. Each threading flavour lives in its own directory
    (``/usr/lib/<triplet>/openblas-<flavour>``); we link that directory explicitly, so the
    choice does not depend on ``update-alternatives``."""

    name = "system"
    flavours = SYSTEM_FLAVOURS
    summary = "Debian/Ubuntu's libopenblas-<flavour>-dev"

    @classmethod
    def from_options(cls, flavour: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(flavour)

    def __init__(self, flavour: str = "pthread"):
        if flavour not in SYSTEM_FLAVOURS:
            raise UserError(f"Unknown system OpenBLAS flavour {flavour!r}: choose one of {', '.join(SYSTEM_FLAVOURS)}.")
        self.flavour = flavour
        self.lib_dir = Path("/usr/lib") / triplet() / f"openblas-{flavour}"
        self.include_dir = Path("/usr/include") / triplet() / f"openblas-{flavour}"
        self.package = f"libopenblas-{flavour}-dev"

    def ensure(self) -> BLASLibrary:
        library = self.lib_dir / "libopenblas.so"
        if not library.exists():
            apt_install([self.package], f"System OpenBLAS ({self.flavour})")
        if not library.exists():
            raise UserError(f"{self.package} is installed but {library} is missing: reinstall it.")
        info = describe_library(library)
        pc_text = render_pc("openblas", info["version"], [str(self.lib_dir)], ["openblas"],
                            [str(self.include_dir)], [str(self.lib_dir)])
        return self.finish(self.flavour, "openblas", f"system-{self.flavour}", pc_text, library, **info)


class ReferenceProvider(Provider):
    """Debian's reference BLAS and LAPACK (``libblas3``/``liblapack3``, built from netlib's
    Fortran, CBLAS included): single-threaded and unoptimised, the floor of the comparisons.
    Both directories are linked explicitly, as for the system OpenBLAS, because Debian's
    alternatives would otherwise hand the built modules an OpenBLAS as ``libblas.so.3``."""

    name = "reference"
    summary = "not OpenBLAS: Debian's netlib reference BLAS/LAPACK, the floor"
    api = None  # netlib has no threads to control: threadpoolctl does not list it
    packages = ["libblas-dev", "liblapack-dev"]

    def __init__(self):
        self.lib_dirs = [Path("/usr/lib") / triplet() / "blas", Path("/usr/lib") / triplet() / "lapack"]

    def ensure(self) -> BLASLibrary:
        library = self.lib_dirs[0] / "libblas.so"
        if not all((d / f"lib{d.name}.so").exists() for d in self.lib_dirs):
            apt_install(self.packages, "The reference BLAS/LAPACK")
        real = os.path.realpath(library)
        version = real.rpartition(".so.")[2] or "unknown"  # libblas.so.3.11.0
        dirs = [str(d) for d in self.lib_dirs]
        pc_text = render_pc("reference-blas", version, dirs, ["lapack", "blas"], [], dirs,
                            description="reference BLAS/LAPACK")
        return self.finish("netlib", "reference-blas", "reference", pc_text, real, version=version,
                           threading_layer="disabled", config="netlib reference BLAS/LAPACK (Debian libblas3, liblapack3)",
                           architecture="generic")


class BLISProvider(Provider):
    """Not OpenBLAS: Debian's BLIS (AMD's recommended BLAS), a rival. BLIS has no LAPACK, so
    Debian's reference LAPACK joins it; that LAPACK needs a ``libblas.so.3``, and BLIS's own
    directory has one (BLIS again, under that name), linked too so the loader takes it instead of
    whatever Debian's alternatives point at. ``libblis.so.4`` comes first: NumPy's CBLAS calls bind
    to it, the copy threadpoolctl sees and limits."""

    name = "blis"
    api = "blis"
    flavours = ("pthread", "openmp")
    summary = "not OpenBLAS: Debian's BLIS (libblis-<flavour>-dev) with the reference LAPACK, a rival"

    @classmethod
    def from_options(cls, flavour: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(flavour)

    def __init__(self, flavour: str = "pthread"):
        self.flavour = flavour
        self.lib_dirs = [Path("/usr/lib") / triplet() / f"blis-{flavour}", Path("/usr/lib") / triplet() / "lapack"]
        self.packages = [f"libblis-{flavour}-dev", "liblapack-dev"]

    def ensure(self) -> BLASLibrary:
        library = self.lib_dirs[0] / "libblis.so"
        if not (library.exists() and (self.lib_dirs[1] / "liblapack.so").exists()):
            apt_install(self.packages, f"BLIS ({self.flavour})")
        info = describe_library(library)
        dirs = [str(d) for d in self.lib_dirs]
        # The extension modules do not call libblas.so.3 themselves: without --no-as-needed the
        # linker would drop it, and the loader would then find the alternatives' one for LAPACK.
        pc_text = render_pc("blis", info["version"], dirs,
                            ["blis", "lapack", "-Wl,--no-as-needed", "blas", "-Wl,--as-needed"],
                            [str(Path("/usr/include") / triplet() / f"blis-{self.flavour}")], dirs,
                            description="BLIS with the reference LAPACK")
        companions = (os.path.realpath(self.lib_dirs[0] / "libblas.so"), os.path.realpath(self.lib_dirs[1] / "liblapack.so"))
        return self.finish(self.flavour, "blis", f"blis-{self.flavour}", pc_text, library, companions=companions, **info)
