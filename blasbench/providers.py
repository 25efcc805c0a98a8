"""BLAS providers: each one knows how to make its library available and how to describe it
to pkg-config and meson. Nothing else in the project knows those details.

- ``system``: Debian/Ubuntu's OpenBLAS in one of its threading variants (pthread, openmp, serial).
- ``scipy-openblas``: the ``scipy-openblas32`` wheel SciPy releases with.
- ``source``: OpenBLAS compiled here from a Debian suite's source package with the user's make options.
- ``site-cfg``: a custom prefix described by a classic NumPy ``site.cfg`` ``[openblas]`` section.
- ``reference``: not OpenBLAS but Debian's reference BLAS/LAPACK (netlib), the no-optimisation
  floor that the comparisons measure OpenBLAS against.
- ``blis`` and ``mkl``: not OpenBLAS either, the rivals: Debian's BLIS and Intel's oneMKL from PyPI.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import UserError, last_line, pins
from .provenance import cpu_flags
from .store import atomic_write_text, cache_dir, digest, file_sha256, locked, read_json

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
    architecture: str  # the core type the library picked on this CPU
    ilp64: bool  # 64-bit integers; every provider here is LP64, recorded because it changes the binary
    companions: tuple[str, ...] = ()  # other files of the provider the modules load (BLIS's LAPACK)
    origin: dict = field(default_factory=dict)  # where a compiled library's source came from, with its sha256

    @property
    def label(self) -> str:
        return f"{self.provider}-{self.variant}"

    @property
    def api(self) -> str | None:
        """What threadpoolctl calls this library (``internal_api``); None when it cannot see it."""
        return PROVIDERS[self.provider].api

    def meson_args(self, package: str = "numpy") -> list[str]:
        """The ``-Csetup-args`` that make NumPy/SciPy link this OpenBLAS and nothing else."""
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


def pip_into(prefix: Path, requirements: list[str], layout: str) -> None:
    """pip-install ``requirements`` (no dependencies) into ``prefix`` (``--target``: packages at its
    top; ``--prefix``: lib/, include/), staged beside it and renamed into place only when complete."""
    staging = prefix.with_name(prefix.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    print(f"Installing {', '.join(requirements)} into {prefix} ...", flush=True)
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", layout, str(staging),
                             *requirements])
    if result.returncode != 0:
        raise UserError(f"pip could not install {', '.join(requirements)}: see its message above.")
    shutil.rmtree(prefix, ignore_errors=True)
    os.replace(staging, prefix)


class Provider:
    """Makes one BLAS library available and describes it. A subclass names itself, its
    variants (the first is the default; none when it has no choice) and a one-line summary,
    and joins ``PROVIDERS``: the command line's choices and help come from there."""

    name: str
    variants: tuple[str, ...] = ()
    summary: str
    api: str | None = "openblas"

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
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
    def from_options(cls, variant: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
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
    """The OpenBLAS wheel SciPy releases with (``scipy-openblas32``, LP64; NumPy's own wheels use
    its ILP64 twin), installed into a fixed prefix under the cache so that the built modules'
    RUNPATH stays valid outside any virtualenv. No ILP64 variant: SciPy's ILP64 build links both
    wheels at once, two OpenBLAS in one process, which is not one BLAS to verify and measure."""

    name = "scipy-openblas"
    variants = ("lp64",)
    summary = "the pinned scipy-openblas32 wheel SciPy releases with (OpenBLAS 0.3.34)"
    distribution = "scipy-openblas32"
    module = "scipy_openblas32"

    def __init__(self):
        self.version = pins.SCIPY_OPENBLAS[self.distribution]
        self.prefix = cache_dir() / "providers" / f"{self.distribution}-{self.version}"

    def ensure(self) -> BLASLibrary:
        if not (self.prefix / self.module).is_dir():
            pip_into(self.prefix, [f"{self.distribution}=={self.version}"], "--target")
        query = (f"import {self.module} as m, json; "
                 "print(json.dumps({'pc': m.get_pkg_config(), 'lib': m.get_library(), 'dir': m.get_lib_dir()}))")
        out = subprocess.run([sys.executable, "-c", query], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(self.prefix)}).stdout
        found = json.loads(out)
        library = next(Path(found["dir"]).glob(f"lib{found['lib']}*.so*"))
        pc_dir = _pc_dir(self.distribution)
        atomic_write_text(pc_dir / "scipy-openblas.pc", found["pc"])
        return BLASLibrary(
            provider=self.name, variant="lp64", pkg_config_name="scipy-openblas",
            pkg_config_dir=str(pc_dir), pc_text=found["pc"], library=os.path.realpath(library),
            ilp64=False, **describe_library(library),
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
    def from_options(cls, variant: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
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
    api = None  # netlib has no threads to control: threadpoolctl does not list it
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


class BLISProvider(Provider):
    """Not OpenBLAS: Debian's BLIS (AMD's recommended BLAS), a rival. BLIS has no LAPACK, so
    Debian's reference LAPACK joins it; that LAPACK needs a ``libblas.so.3``, and BLIS's own
    directory has one (BLIS again, under that name), linked too so the loader takes it instead of
    whatever Debian's alternatives point at. ``libblis.so.4`` comes first: NumPy's CBLAS calls bind
    to it, the copy threadpoolctl sees and limits."""

    name = "blis"
    api = "blis"
    variants = ("pthread", "openmp")
    summary = "not OpenBLAS: Debian's BLIS (libblis-<variant>-dev) with the reference LAPACK, a rival"

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(variant)

    def __init__(self, variant: str = "pthread"):
        self.variant = variant
        self.lib_dirs = [Path("/usr/lib") / _triplet() / f"blis-{variant}", Path("/usr/lib") / _triplet() / "lapack"]
        self.packages = [f"libblis-{variant}-dev", "liblapack-dev"]

    def ensure(self) -> BLASLibrary:
        library = self.lib_dirs[0] / "libblis.so"
        if not (library.exists() and (self.lib_dirs[1] / "liblapack.so").exists()):
            apt_install(self.packages, f"BLIS ({self.variant})")
        info = describe_library(library)
        dirs = [str(d) for d in self.lib_dirs]
        # The extension modules do not call libblas.so.3 themselves: without --no-as-needed the
        # linker would drop it, and the loader would then find the alternatives' one for LAPACK.
        pc_text = render_pc("blis", info["version"], dirs,
                            ["blis", "lapack", "-Wl,--no-as-needed", "blas", "-Wl,--as-needed"],
                            [str(Path("/usr/include") / _triplet() / f"blis-{self.variant}")], dirs,
                            description="BLIS with the reference LAPACK")
        pc_dir = _pc_dir(f"blis-{self.variant}")
        atomic_write_text(pc_dir / "blis.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant=self.variant, pkg_config_name="blis", pkg_config_dir=str(pc_dir),
            pc_text=pc_text, library=os.path.realpath(library), ilp64=False,
            companions=(os.path.realpath(self.lib_dirs[0] / "libblas.so"), os.path.realpath(self.lib_dirs[1] / "liblapack.so")),
            **info,
        )


class MKLProvider(Provider):
    """Not OpenBLAS: Intel's oneMKL from PyPI (``mkl-devel``), a rival, as conda's and Intel's
    NumPy use it. Linked through its single dynamic library ``libmkl_rt`` (the ``mkl-sdl``
    pkg-config name): that is the file threadpoolctl recognises, and it picks the threading layer
    (Intel OpenMP by default) at run time. The wheels go into a fixed prefix under the cache, the
    RUNPATH points there."""

    name = "mkl"
    api = "mkl"
    summary = "not OpenBLAS: Intel oneMKL from PyPI (mkl-devel), through libmkl_rt, a rival"

    def __init__(self):
        self.prefix = cache_dir() / "providers" / f"mkl-{pins.MKL[0].partition('==')[2]}"

    def ensure(self) -> BLASLibrary:
        lib_dir = self.prefix / "lib"
        if not lib_dir.is_dir():
            pip_into(self.prefix, list(pins.MKL), "--prefix")
        library = next(lib_dir.glob("libmkl_rt.so.*"), None)
        if library is None:
            raise UserError(f"{lib_dir} has no libmkl_rt: remove {self.prefix} and run again.")
        info = describe_library(library)
        version = info["version"].removesuffix("-Product")
        pc_text = render_pc("mkl-sdl", version, [str(lib_dir)], [str(library)],  # no unversioned .so
                            [str(self.prefix / "include")], [str(lib_dir)], description="Intel oneMKL (mkl_rt)")
        pc_dir = _pc_dir(self.prefix.name)
        atomic_write_text(pc_dir / "mkl-sdl.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant="rt", pkg_config_name="mkl-sdl", pkg_config_dir=str(pc_dir),
            pc_text=pc_text, library=os.path.realpath(library), ilp64=False, **{**info, "version": version},
        )


# OpenBLAS's own make variables a user may set for --provider source (Makefile.rule documents them).
MAKE_VARIABLES = ("TARGET", "DYNAMIC_ARCH", "DYNAMIC_OLDER", "NO_AVX512", "USE_THREAD", "USE_OPENMP", "NUM_THREADS",
                  "INTERFACE64", "NO_AFFINITY", "NO_WARMUP", "USE_TLS", "CONSISTENT_FPCSR", "BUFFERSIZE",
                  "GEMM_MULTITHREAD_THRESHOLD", "COMMON_OPT", "FCOMMON_OPT")
# NUM_THREADS is OpenBLAS's ceiling, by default the builder's core count: a library built on a
# small machine would never use more, so it gets Debian's ceiling unless the user sets one.
MAKE_DEFAULTS = {"USE_THREAD": "1", "NUM_THREADS": "64", "NO_AFFINITY": "1", "NO_WARMUP": "1"}
# Debian's source has no LAPACKE (it went with the bundled LAPACK); NumPy and SciPy do not use it.
MAKE_REQUIRED = {"NO_LAPACKE": "1"}


# OpenBLAS 0.3.21 detects AVX-512 on a Zen 4 and then compiles its AVX-512 kernels without the flags they
# need ("inlining failed ... target specific option mismatch" in kernel/simd/intrin_avx512.h; fixed in
# 0.3.22): a target is named unless the user names one or asks for DYNAMIC_ARCH. HASWELL's AVX2 kernels
# run on every CPU with AVX2 (Intel since Haswell, AMD since Zen, the AVX-512 ones included), so one
# build serves every such node of a cluster; a CPU without AVX2 is left to OpenBLAS's own detection.
PORTABLE_TARGET = "HASWELL"


def default_target(cpu_flags: list[str]) -> dict[str, str]:
    return {"TARGET": PORTABLE_TARGET} if "avx2" in cpu_flags else {}


def parse_make_options(items: list[str] | tuple[str, ...], cpu_flags: list[str] = ()) -> dict[str, str]:
    """``KEY=VALUE`` words (``--make TARGET=ZEN NUM_THREADS=128``), checked against :data:`MAKE_VARIABLES`;
    the target of :func:`default_target` for this CPU (``cpu_flags``) unless they name one."""
    options = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not value:
            raise UserError(f"--make {item}: write KEY=VALUE, e.g. TARGET=ZEN.")
        if key not in MAKE_VARIABLES:
            raise UserError(f"--make {item}: unknown OpenBLAS make variable {key}; known: {', '.join(MAKE_VARIABLES)}.")
        options[key] = value
    if options.get("INTERFACE64", "0") != "0":
        raise UserError("--make INTERFACE64=1 builds an ILP64 OpenBLAS, which NumPy and SciPy here are built "
                        "without (LP64): leave INTERFACE64 out.")
    target = {} if "TARGET" in options or options.get("DYNAMIC_ARCH", "0") != "0" else default_target(list(cpu_flags))
    return {**MAKE_DEFAULTS, **target, **options, **MAKE_REQUIRED}


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


def _run_logged(command: list[str], log, what: str, log_path: Path, hint=None, **kwargs) -> None:
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, **kwargs).returncode != 0:
        cause = hint(log_path.read_text(errors="replace")) if hint else None
        raise UserError(f"{what} failed{f': {cause}' if cause else ''}; the whole log is kept: {log_path}")


def compile_hint(log_text: str) -> str | None:
    """The likely cause of a failed OpenBLAS compile, and the ``--make`` option that avoids it."""
    if "target specific option mismatch" in log_text:
        return ("kernels for this CPU's extensions were compiled without their flags (OpenBLAS 0.3.21's detection "
                f"on AVX-512 CPUs); pass --make TARGET={PORTABLE_TARGET}, or a target OpenBLAS knows that this CPU runs")
    if match := re.search(r"(?m)^.*(?:Unknown|unknown|not supported).*(?:TARGET|target|CPU).*$", log_text):
        return f"{match.group(0).strip()}: pass a TARGET from OpenBLAS's TargetList.txt, e.g. --make TARGET={PORTABLE_TARGET}"
    return None


class SourceProvider(Provider):
    """OpenBLAS compiled here from the Debian source package of a suite (``bookworm``: 0.3.21;
    ``trixie``: 0.3.29), fetched through the mirror the system's apt already uses, with the
    user's make options. Debian's package drops the bundled LAPACK; its own patches (applied by
    ``dpkg-source``) take LAPACK from the system's ``liblapack_pic.a`` (``liblapack-dev``)
    instead, so the suite's package needs this system's LAPACK to be as new as it was built with.
    Installed into a prefix under the cache keyed by the source's sha256, the options and the
    compilers, like the wheels; described by pkg-config with a RUNPATH into that prefix."""

    name = "source"
    variants = ("bookworm", "trixie")
    summary = "OpenBLAS compiled here from a Debian suite's source package, with your --make options"
    packages = ["dpkg-dev", "liblapack-dev", "xz-utils"]

    @classmethod
    def from_options(cls, variant: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(variant, parse_make_options(make, cpu_flags()), "TARGET" not in dict(w.partition("=")[::2] for w in make))

    def __init__(self, suite: str = "bookworm", make: dict[str, str] | None = None, target_defaulted: bool = True):
        self.suite = suite
        self.make = make if make is not None else parse_make_options((), cpu_flags())
        self.target_defaulted = target_defaulted

    def fetch(self) -> tuple[Path, str]:
        """The suite's ``.dsc`` with its tarballs (apt checks their checksums against the suite's
        signed index), and the version; fetched once, then reused, so a rebuild needs no network."""
        directory = cache_dir() / "providers" / "openblas-source" / self.suite
        if found := sorted((directory / "download").glob("openblas_*.dsc")):
            return found[-1], found[-1].name.removeprefix("openblas_").removesuffix(".dsc")
        options = debian_source_lists(host_debian_mirror(), self.suite, directory / "apt")
        print(f"Fetching Debian {self.suite}'s openblas source package ...", flush=True)
        update = subprocess.run(["apt-get", "-q", *options, "update"], capture_output=True, text=True)
        if update.returncode != 0:
            raise UserError(f"apt-get update of {self.suite}'s sources failed: {last_line(update.stderr)}")
        (directory / "download").mkdir(exist_ok=True)
        get = subprocess.run(["apt-get", "-q", *options, "source", "--download-only", "openblas"],
                             cwd=directory / "download", capture_output=True, text=True)
        if get.returncode != 0:
            raise UserError(f"apt-get source openblas ({self.suite}) failed: {last_line(get.stderr)}")
        dsc = sorted((directory / "download").glob("openblas_*.dsc"))[-1]
        return dsc, dsc.name.removeprefix("openblas_").removesuffix(".dsc")

    def ensure(self) -> BLASLibrary:
        from .build import toolchain  # build.py imports this module

        if any(shutil.which(tool) is None for tool in ("dpkg-source", "xz")) or \
                not (Path("/usr/lib") / _triplet() / "liblapack_pic.a").exists():
            apt_install(self.packages, "What compiling OpenBLAS from Debian's source needs")
        dsc, debian_version = self.fetch()
        self.check_lapack(dsc, debian_version)
        orig = next(dsc.parent.glob(f"openblas_{debian_version.partition('-')[0]}.orig.tar.*"))
        inputs = {"dsc_sha256": file_sha256(dsc), "orig": orig.name, "orig_sha256": file_sha256(orig),
                  "make": self.make, "toolchain": {k: v for k, v in toolchain().items() if k != "ccache"},
                  "liblapack_pic": os.path.realpath(Path("/usr/lib") / _triplet() / "liblapack_pic.a")}
        key = digest(inputs)[:16]
        prefix = cache_dir() / "providers" / "openblas-source" / f"{debian_version}-{key}"
        if not (prefix / "lib" / "libopenblas.so").exists():
            with locked(f"openblas-source-{key}", f"compile of OpenBLAS {debian_version} (key {key})"):
                if not (prefix / "lib" / "libopenblas.so").exists():  # the other process may have made it
                    self.compile(dsc, prefix, inputs, key)
        library = prefix / "lib" / "libopenblas.so"
        info = describe_library(library)
        lib_dir = str(prefix / "lib")
        pc_text = render_pc("openblas", info["version"], [lib_dir], ["openblas"], [str(prefix / "include")], [lib_dir],
                            description=f"OpenBLAS {debian_version} from Debian {self.suite}'s source, compiled here")
        pc_dir = _pc_dir(f"source-{debian_version}-{key}")
        atomic_write_text(pc_dir / "openblas.pc", pc_text)
        return BLASLibrary(
            provider=self.name, variant=self.suite, pkg_config_name="openblas", pkg_config_dir=str(pc_dir),
            pc_text=pc_text, library=os.path.realpath(library), ilp64=False,
            origin={"suite": self.suite, **read_json(prefix / "source.json")}, **info,
        )

    def check_lapack(self, dsc: Path, debian_version: str) -> None:
        """The package's Build-Depends name the LAPACK its patches link in; refuse before compiling
        when this system's is older (trixie's 0.3.29 calls LAPACK 3.12 routines bookworm's 3.11 lacks)."""
        needed = re.search(r"liblapack-dev \(>= ([^)]+)\)", dsc.read_text())
        have = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "liblapack-dev"], capture_output=True, text=True).stdout
        if needed and have and subprocess.run(["dpkg", "--compare-versions", have, "lt", needed.group(1)]).returncode == 0:
            raise UserError(f"Debian {self.suite}'s openblas {debian_version} needs liblapack-dev >= {needed.group(1)} "
                            f"and this system has {have}: pick the system's own suite (--variant {self.variants[0]}).")

    def compile(self, dsc: Path, prefix: Path, inputs: dict, key: str) -> None:
        """Unpack (Debian's patches applied), make, install into ``prefix``; renamed into place
        only when complete, its log kept either way."""
        log_path = cache_dir() / "logs" / f"openblas-{prefix.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        staging = prefix.with_name(f".{prefix.name}.partial{os.getpid()}")
        source = staging / "src"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        make = ["make", f"-j{os.cpu_count() or 1}", *(f"{k}={v}" for k, v in sorted(self.make.items()))]
        print(f"Compiling OpenBLAS from {dsc.name} ({' '.join(make[2:])}); log: {log_path}", flush=True)
        started = time.monotonic()
        try:
            with open(log_path, "w") as log:
                log.write(json.dumps(inputs, indent=2) + "\n")
                # --no-check: apt verified the files against the signed index; no uploaders' keyring here
                _run_logged(["dpkg-source", "--no-check", "-x", str(dsc), str(source)], log, "Unpacking the source",
                            log_path)
                _run_logged([*make, "libs", "netlib", "shared"], log, "Compiling OpenBLAS", log_path, cwd=source,
                            hint=compile_hint)
                _run_logged([*make, "install", f"PREFIX={staging / 'install'}"], log, "Installing OpenBLAS", log_path,
                            cwd=source)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # the log stays
            raise
        # The prefix's files name their final place (pkg-config, cmake): install to staging/install,
        # then move; nothing inside libopenblas.so refers to the prefix.
        final = staging / "install"
        target = self.make.get("TARGET")
        note = (f"TARGET={target}" + (", chosen by blasbench: its AVX2 kernels run on every CPU with AVX2, and OpenBLAS "
                                      "0.3.21's own detection fails to compile on AVX-512 CPUs" if self.target_defaulted
                                      else ", as asked") if target else "OpenBLAS's own detection of this CPU")
        (final / "source.json").write_text(json.dumps({**inputs, "key": key, "dsc": dsc.name, "target": note,
                                                       "compile_seconds": round(time.monotonic() - started, 1)}, indent=2))
        shutil.rmtree(prefix, ignore_errors=True)
        os.replace(final, prefix)
        shutil.rmtree(staging, ignore_errors=True)
        print(f"OpenBLAS compiled in {time.monotonic() - started:.0f} s into {prefix}", flush=True)


# Every provider, by name (threadpoolctl's _ALL_CONTROLLERS): nothing else lists them.
PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in (SystemProvider, ScipyOpenBLASProvider,
                                                                   SourceProvider, SiteCfgProvider, ReferenceProvider,
                                                                   BLISProvider, MKLProvider)}


def get_provider(name: str, variant: str | None = None, site_cfg: Path | None = None,
                 make: tuple[str, ...] = ()) -> Provider:
    """The provider ``name`` with its ``variant`` (its default when None) and options, checked."""
    if name not in PROVIDERS:
        raise UserError(f"Unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}.")
    cls = PROVIDERS[name]
    if variant is not None and variant not in cls.variants:
        choices = f"choose one of {', '.join(cls.variants)}" if cls.variants else "it has none: leave out --variant"
        raise UserError(f"Unknown variant {variant!r} of provider {name}: {choices}.")
    if make and name != "source":
        raise UserError(f"--make sets how OpenBLAS is compiled: only with --provider source, not {name}.")
    return cls.from_options(variant or (cls.variants[0] if cls.variants else ""), site_cfg, tuple(make))


def providers_help() -> str:
    return "; ".join(f"{name}: {cls.summary}" + (f" (variants {', '.join(cls.variants)}; default {cls.variants[0]})"
                                                   if cls.variants else "") for name, cls in PROVIDERS.items())
