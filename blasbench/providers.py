"""OpenBLAS providers: each one knows how to make its OpenBLAS available and how
to describe it to pkg-config and meson. Nothing else in the project knows those details.

- ``system``: Debian/Ubuntu's OpenBLAS in one of its threading variants (pthread, openmp, serial).
- ``scipy-openblas``: the ``scipy-openblas32``/``scipy-openblas64`` wheels NumPy and SciPy release with.
- ``site-cfg``: a custom prefix described by a classic NumPy ``site.cfg`` ``[openblas]`` section.
- ``reference``: not OpenBLAS but Debian's reference BLAS/LAPACK (netlib), the no-optimisation
  floor that the comparisons measure OpenBLAS against.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

from . import UserError, pins
from .store import atomic_write_text, cache_dir, digest

SYSTEM_VARIANTS = ("pthread", "openmp", "serial")

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
    variant: str
    pkg_config_name: str  # the dependency name meson looks up
    pkg_config_dir: str  # holds <pkg_config_name>.pc
    pc_text: str
    library: str  # real path of the shared library the built modules must load
    version: str
    threading_layer: str  # as OpenBLAS reports it: pthreads, openmp or disabled
    config: str  # openblas_get_config()
    architecture: str  # the core type OpenBLAS picked on this CPU
    ilp64: bool

    @property
    def label(self) -> str:
        return f"{self.provider}-{self.variant}"

    def meson_args(self, package: str = "numpy") -> list[str]:
        """The ``-Csetup-args`` that make NumPy/SciPy link this OpenBLAS and nothing else."""
        args = [
            f"-Dblas={self.pkg_config_name}",
            f"-Dlapack={self.pkg_config_name}",
            f"-Dpkg_config_path={self.pkg_config_dir}",
        ]
        if package == "numpy":  # SciPy has no fallback to disable: it always needs BLAS
            args.append("-Dallow-noblas=false")
        if self.ilp64:
            args.append("-Duse-ilp64=true")
        return args

    def key_material(self) -> dict:
        """The parts that change a binary built against it (not the core type: that is runtime)."""
        material = asdict(self)
        del material["architecture"], material["pkg_config_dir"]  # chosen at run time / where the cache is
        # A DYNAMIC_ARCH build names the core it picked at run time inside its config string.
        material["config"] = " ".join(w for w in self.config.split() if w != self.architecture)
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
    """Version, threading layer, core type and build config of the OpenBLAS at ``library``,
    read in a clean child process."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(library)], capture_output=True, text=True, env=build_environment()
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"{library} could not be loaded as OpenBLAS ({last}).")
    probe = json.loads(result.stdout)
    return {
        "version": probe["info"]["version"] or "unknown",
        "threading_layer": probe["info"]["threading_layer"],
        "architecture": probe["info"]["architecture"] or "unknown",
        "config": probe["config"],
    }


def render_pc(name: str, version: str, lib_dirs: list[str], libraries: list[str],
              include_dirs: list[str], runtime_dirs: list[str], description: str = "OpenBLAS") -> str:
    """A pkg-config file; ``-Wl,-rpath`` makes the built modules load from ``runtime_dirs``
    whatever the dynamic loader's defaults or Debian's alternatives say."""
    libs = [f"-L{d}" for d in lib_dirs] + [f"-Wl,-rpath,{d}" for d in runtime_dirs]
    libs += [f"-l{lib}" for lib in libraries]
    cflags = [f"-I{d}" for d in include_dirs]
    return (
        f"Name: {name}\nDescription: {description} described by blasbench\nVersion: {version}\n"
        f"Libs: {' '.join(libs)}\nCflags: {' '.join(cflags)}\n"
    )


def _pc_dir(label: str) -> Path:
    return cache_dir() / "pkgconfig" / label


def _triplet() -> str:
    return sysconfig.get_config_var("MULTIARCH") or f"{os.uname().machine}-linux-gnu"


def apt_install(packages: list[str], what: str) -> None:
    """Install Debian packages when running as root with apt-get, else say the exact command."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise UserError(f"{what} is not installed: run `sudo {' '.join(command)}` (or pick another --variant/--provider).")
    print(f"Installing {' '.join(packages)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        if subprocess.run(command, env=env).returncode != 0:
            raise UserError(f"`{' '.join(command)}` failed: see apt-get's message above.")


class Provider:
    """Makes one BLAS library available and describes it. A subclass names itself, its
    variants (the first is the default; none when it has no choice) and a one-line summary,
    and joins ``PROVIDERS``: the command line's choices and help come from there."""

    name: str
    variants: tuple[str, ...] = ()
    summary: str

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None) -> Provider:
        return cls()

    def ensure(self) -> BLASLibrary:
        raise NotImplementedError


class SystemProvider(Provider):
    """Debian/Ubuntu's OpenBLAS. Each threading variant lives in its own directory
    (``/usr/lib/<triplet>/openblas-<variant>``); we link that directory explicitly, so the
    choice does not depend on ``update-alternatives``."""

    name = "system"
    variants = SYSTEM_VARIANTS
    summary = "Debian/Ubuntu's libopenblas-<variant>-dev"

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None) -> Provider:
        return cls(variant)

    def __init__(self, variant: str = "pthread"):
        if variant not in SYSTEM_VARIANTS:
            raise UserError(f"Unknown system OpenBLAS variant {variant!r}: choose one of {', '.join(SYSTEM_VARIANTS)}.")
        self.variant = variant
        self.lib_dir = Path("/usr/lib") / _triplet() / f"openblas-{variant}"
        self.include_dir = Path("/usr/include") / _triplet() / f"openblas-{variant}"
        self.package = f"libopenblas-{variant}-dev"

    def ensure(self) -> BLASLibrary:
        library = self.lib_dir / "libopenblas.so"
        if not library.exists():
            apt_install([self.package], f"System OpenBLAS ({self.variant})")
        if not library.exists():
            raise UserError(f"{self.package} is installed but {library} is missing: reinstall it.")
        info = describe_library(library)
        pc_text = render_pc("openblas", info["version"], [str(self.lib_dir)], ["openblas"],
                            [str(self.include_dir)], [str(self.lib_dir)])
        pc_dir = _pc_dir(f"system-{self.variant}")
        atomic_write_text(pc_dir / "openblas.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant=self.variant, pkg_config_name="openblas",
            pkg_config_dir=str(pc_dir), pc_text=pc_text, library=os.path.realpath(library),
            ilp64=False, **info,
        )


class ScipyOpenBLASProvider(Provider):
    """The OpenBLAS wheels NumPy and SciPy release with, installed into a fixed prefix under
    the cache so that the built modules' RUNPATH stays valid outside any virtualenv."""

    name = "scipy-openblas"
    variants = ("ilp64", "lp64")
    summary = "the pinned scipy-openblas64/32 wheel NumPy and SciPy release with (experimental)"

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None) -> Provider:
        return cls(ilp64=variant == "ilp64")

    def __init__(self, ilp64: bool = True):
        self.ilp64 = ilp64
        self.distribution = "scipy-openblas64" if ilp64 else "scipy-openblas32"
        self.module = self.distribution.replace("-", "_")
        self.version = pins.SCIPY_OPENBLAS[self.distribution]
        self.prefix = cache_dir() / "providers" / f"{self.distribution}-{self.version}"

    def ensure(self) -> BLASLibrary:
        if not (self.prefix / self.module).is_dir():
            staging = self.prefix.with_name(self.prefix.name + f".tmp{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                                     str(staging), f"{self.distribution}=={self.version}"])
            if result.returncode != 0:
                raise UserError(f"pip could not install {self.distribution}=={self.version}: see its message above.")
            shutil.rmtree(self.prefix, ignore_errors=True)
            os.replace(staging, self.prefix)
        query = (f"import {self.module} as m, json; "
                 "print(json.dumps({'pc': m.get_pkg_config(), 'lib': m.get_library(), 'dir': m.get_lib_dir()}))")
        out = subprocess.run([sys.executable, "-c", query], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(self.prefix)}).stdout
        found = json.loads(out)
        library = next(Path(found["dir"]).glob(f"lib{found['lib']}*.so*"))
        pc_dir = _pc_dir(self.distribution)
        atomic_write_text(pc_dir / "scipy-openblas.pc", found["pc"])
        return BLASLibrary(
            provider=self.name, variant="ilp64" if self.ilp64 else "lp64", pkg_config_name="scipy-openblas",
            pkg_config_dir=str(pc_dir), pc_text=found["pc"], library=os.path.realpath(library),
            ilp64=self.ilp64, **describe_library(library),
        )


SITE_CFG_KEYS = ("libraries", "library_dirs", "include_dirs", "runtime_library_dirs")


def parse_site_cfg(path: Path) -> dict[str, list[str]]:
    """Read the ``[openblas]`` section of a NumPy-style ``site.cfg``; lists are split on
    commas or ``os.pathsep`` as numpy.distutils did."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"site.cfg not found at {path}: copy site.cfg.example there and edit it.")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as e:
        first_line = str(e).splitlines()[0]
        raise UserError(f"{path} is not a valid site.cfg ({first_line}): compare it with site.cfg.example.") from None
    if not parser.has_section("openblas"):
        raise UserError(f"{path} has no [openblas] section: see site.cfg.example.")
    section = parser["openblas"]
    unknown = sorted(set(section) - set(SITE_CFG_KEYS))
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)} in [openblas]; allowed: {', '.join(SITE_CFG_KEYS)}.")
    values = {}
    for key in SITE_CFG_KEYS:
        raw = section.get(key, "")
        values[key] = [os.path.expanduser(item.strip()) for item in raw.replace(os.pathsep, ",").split(",") if item.strip()]
    if not values["libraries"]:
        values["libraries"] = ["openblas"]
    if not values["library_dirs"]:
        raise UserError(f"{path}: [openblas] needs library_dirs = <prefix>/lib.")
    values["runtime_library_dirs"] = values["runtime_library_dirs"] or values["library_dirs"]
    for key in ("library_dirs", "include_dirs", "runtime_library_dirs"):
        for directory in values[key]:
            if not Path(directory).is_dir():
                raise UserError(f"{path}: {key} names {directory}, which is not a directory.")
    return values


class SiteCfgProvider(Provider):
    """A custom OpenBLAS prefix described in ``site.cfg``. Meson ignores site.cfg, so it is
    translated into a pkg-config file whose RUNPATH points at ``runtime_library_dirs``."""

    name = "site-cfg"
    summary = "your own OpenBLAS prefix, described in a classic site.cfg (--site-cfg)"

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None) -> Provider:
        return cls(site_cfg or Path("site.cfg"))

    def __init__(self, path: Path):
        self.path = Path(path).resolve()

    def library(self, cfg: dict[str, list[str]]) -> Path:
        name = cfg["libraries"][0]
        for directory in cfg["library_dirs"]:
            candidate = Path(directory) / f"lib{name}.so"
            if candidate.exists():
                return candidate
        raise UserError(f"{self.path}: no lib{name}.so in {', '.join(cfg['library_dirs'])}; fix library_dirs or libraries.")

    def ensure(self) -> BLASLibrary:
        cfg = parse_site_cfg(self.path)
        library = self.library(cfg)
        info = describe_library(library)
        pc_text = render_pc("openblas", info["version"], cfg["library_dirs"], cfg["libraries"],
                            cfg["include_dirs"], cfg["runtime_library_dirs"])
        pc_dir = _pc_dir("site-cfg-" + digest(str(self.path))[:12])
        atomic_write_text(pc_dir / "openblas.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant="custom", pkg_config_name="openblas", pkg_config_dir=str(pc_dir),
            pc_text=pc_text, library=os.path.realpath(library), ilp64=False, **info,
        )


class ReferenceProvider(Provider):
    """Debian's reference BLAS and LAPACK (``libblas3``/``liblapack3``, built from netlib's
    Fortran, CBLAS included): single-threaded and unoptimised, the floor of the comparisons.
    Both directories are linked explicitly, as for the system OpenBLAS, because Debian's
    alternatives would otherwise hand the built modules an OpenBLAS as ``libblas.so.3``."""

    name = "reference"
    summary = "not OpenBLAS: Debian's netlib reference BLAS/LAPACK, the floor"
    packages = ["libblas-dev", "liblapack-dev"]

    def __init__(self):
        self.lib_dirs = [Path("/usr/lib") / _triplet() / "blas", Path("/usr/lib") / _triplet() / "lapack"]

    def ensure(self) -> BLASLibrary:
        library = self.lib_dirs[0] / "libblas.so"
        if not all((d / f"lib{d.name}.so").exists() for d in self.lib_dirs):
            apt_install(self.packages, "The reference BLAS/LAPACK")
        real = os.path.realpath(library)
        version = real.rpartition(".so.")[2] or "unknown"  # libblas.so.3.11.0
        dirs = [str(d) for d in self.lib_dirs]
        pc_text = render_pc("reference-blas", version, dirs, ["lapack", "blas"], [], dirs,
                            description="reference BLAS/LAPACK")
        pc_dir = _pc_dir("reference")
        atomic_write_text(pc_dir / "reference-blas.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant="netlib", pkg_config_name="reference-blas", pkg_config_dir=str(pc_dir),
            pc_text=pc_text, library=real, version=version, threading_layer="disabled",
            config="netlib reference BLAS/LAPACK (Debian libblas3, liblapack3)", architecture="generic", ilp64=False,
        )


# Every provider, by name (threadpoolctl's _ALL_CONTROLLERS): nothing else lists them.
PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in (SystemProvider, ScipyOpenBLASProvider,
                                                                   SiteCfgProvider, ReferenceProvider)}


def get_provider(name: str, variant: str | None = None, site_cfg: Path | None = None) -> Provider:
    """The provider ``name`` with its ``variant`` (its default when None), checked."""
    if name not in PROVIDERS:
        raise UserError(f"Unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}.")
    cls = PROVIDERS[name]
    if variant is not None and variant not in cls.variants:
        choices = f"choose one of {', '.join(cls.variants)}" if cls.variants else "it has none: leave out --variant"
        raise UserError(f"Unknown variant {variant!r} of provider {name}: {choices}.")
    return cls.from_options(variant or (cls.variants[0] if cls.variants else ""), site_cfg)


def providers_help() -> str:
    return "; ".join(f"{name}: {cls.summary}" + (f" (variants {', '.join(cls.variants)}; default {cls.variants[0]})"
                                                   if cls.variants else "") for name, cls in PROVIDERS.items())
