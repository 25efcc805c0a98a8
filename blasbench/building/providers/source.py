"""OpenBLAS compiled here from a Debian suite's source package, with the user's make options."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ... import UserError, last_line
from ...provenance import cpu_flags
from ...store import cache_dir, digest, file_sha256, locked, read_json
from ..host import apt_install, debian_source_lists, host_debian_mirror, toolchain, triplet
from .base import BLASLibrary, Provider, describe_library, render_pc

# OpenBLAS's own make variables a user may set for --setup source (Makefile.rule documents them).
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
    """``KEY=VALUE`` words (``source+TARGET=ZEN+NUM_THREADS=128``), checked against :data:`MAKE_VARIABLES`;
    the target of :func:`default_target` for this CPU (``cpu_flags``) unless they name one."""
    options = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not value:
            raise UserError(f"--setup source+{item}: write KEY=VALUE, e.g. source+TARGET=ZEN.")
        if key not in MAKE_VARIABLES:
            raise UserError(f"--setup source+{item}: unknown OpenBLAS make variable {key}; known: {', '.join(MAKE_VARIABLES)}.")
        options[key] = value
    if options.get("INTERFACE64", "0") != "0":
        raise UserError("--setup source+INTERFACE64=1 builds an ILP64 OpenBLAS, which NumPy and SciPy here are built "
                        "without (LP64): leave INTERFACE64 out.")
    target = {} if "TARGET" in options or options.get("DYNAMIC_ARCH", "0") != "0" else default_target(list(cpu_flags))
    return {**MAKE_DEFAULTS, **target, **options, **MAKE_REQUIRED}


def _run_logged(command: list[str], log, what: str, log_path: Path, hint=None, **kwargs) -> None:
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, **kwargs).returncode != 0:
        cause = hint(log_path.read_text(errors="replace")) if hint else None
        raise UserError(f"{what} failed{f': {cause}' if cause else ''}; the whole log is kept: {log_path}")


def compile_hint(log_text: str) -> str | None:
    """The likely cause of a failed OpenBLAS compile, and the setup that avoids it."""
    if "target specific option mismatch" in log_text:
        return ("kernels for this CPU's extensions were compiled without their flags (OpenBLAS 0.3.21's detection "
                f"on AVX-512 CPUs); pass --setup source+TARGET={PORTABLE_TARGET}, or a target OpenBLAS knows that this CPU runs")
    if match := re.search(r"(?m)^.*(?:Unknown|unknown|not supported).*(?:TARGET|target|CPU).*$", log_text):
        return (f"{match.group(0).strip()}: pass a TARGET from OpenBLAS's TargetList.txt, "
                f"e.g. --setup source+TARGET={PORTABLE_TARGET}")
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
    flavours = ("bookworm", "trixie")
    summary = "OpenBLAS compiled here from a Debian suite's source package, with your make variables (source+KEY=VALUE)"
    packages = ["dpkg-dev", "liblapack-dev", "xz-utils"]

    @classmethod
    def from_options(cls, flavour: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(flavour, parse_make_options(make, cpu_flags()), "TARGET" not in dict(w.partition("=")[::2] for w in make))

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
        if any(shutil.which(tool) is None for tool in ("dpkg-source", "xz")) or \
                not (Path("/usr/lib") / triplet() / "liblapack_pic.a").exists():
            apt_install(self.packages, "What compiling OpenBLAS from Debian's source needs")
        dsc, debian_version = self.fetch()
        self.check_lapack(dsc, debian_version)
        orig = next(dsc.parent.glob(f"openblas_{debian_version.partition('-')[0]}.orig.tar.*"))
        inputs = {"dsc_sha256": file_sha256(dsc), "orig": orig.name, "orig_sha256": file_sha256(orig),
                  "make": self.make, "toolchain": {k: v for k, v in toolchain().items() if k != "ccache"},
                  "liblapack_pic": os.path.realpath(Path("/usr/lib") / triplet() / "liblapack_pic.a")}
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
        return self.finish(self.suite, "openblas", f"source-{debian_version}-{key}", pc_text, library,
                           origin={"suite": self.suite, **read_json(prefix / "source.json")}, **info)

    def check_lapack(self, dsc: Path, debian_version: str) -> None:
        """The package's Build-Depends name the LAPACK its patches link in; refuse before compiling
        when this system's is older (trixie's 0.3.29 calls LAPACK 3.12 routines bookworm's 3.11 lacks)."""
        needed = re.search(r"liblapack-dev \(>= ([^)]+)\)", dsc.read_text())
        have = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "liblapack-dev"], capture_output=True, text=True).stdout
        if needed and have and subprocess.run(["dpkg", "--compare-versions", have, "lt", needed.group(1)]).returncode == 0:
            raise UserError(f"Debian {self.suite}'s openblas {debian_version} needs liblapack-dev >= {needed.group(1)} "
                            f"and this system has {have}: pick the system's own suite (--setup source:{self.flavours[0]}).")

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
