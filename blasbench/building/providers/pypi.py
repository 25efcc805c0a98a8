"""Libraries from the package index, pip-installed into a fixed prefix under the cache so that the
built modules' RUNPATH stays valid outside any virtual environment: the OpenBLAS SciPy releases
with (``scipy-openblas32``) and Intel's oneMKL (a rival).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ... import UserError, pins
from ...store import cache_dir
from .base import BLASLibrary, Provider, describe_library, render_pc


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



class ScipyOpenBLASProvider(Provider):
    """The OpenBLAS wheel SciPy releases with (``scipy-openblas32``, LP64; NumPy's own wheels use
    its ILP64 twin), installed into a fixed prefix under the cache so that the built modules'
    RUNPATH stays valid outside any virtualenv. No ILP64 flavour: SciPy's ILP64 build links both
    wheels at once, two OpenBLAS in one process, which is not one BLAS to verify and measure."""

    name = "scipy-openblas"
    flavours = ("lp64",)
    summary = "the pinned scipy-openblas32 wheel SciPy releases with (OpenBLAS 0.3.34)"
    distribution = "scipy-openblas32"
    module = "scipy_openblas32"

    def __init__(self, version: str | None = None):
        """``version``: a release of the wheel other than the pinned one (the release axis loads it in
        the pinned build's place)."""
        self.version = version or pins.SCIPY_OPENBLAS[self.distribution]
        self.prefix = cache_dir() / "providers" / f"{self.distribution}-{self.version}"

    def installed(self) -> Path:
        """The wheel's package directory in the cache, installed there once."""
        if not (self.prefix / self.module).is_dir():
            pip_into(self.prefix, [f"{self.distribution}=={self.version}"], "--target")
        return self.prefix / self.module

    def ensure(self) -> BLASLibrary:
        self.installed()
        query = (f"import {self.module} as m, json; "
                 "print(json.dumps({'pc': m.get_pkg_config(), 'lib': m.get_library(), 'dir': m.get_lib_dir()}))")
        out = subprocess.run([sys.executable, "-c", query], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(self.prefix)}).stdout
        found = json.loads(out)
        library = next(Path(found["dir"]).glob(f"lib{found['lib']}*.so*"))
        return self.finish("lp64", "scipy-openblas", self.distribution, found["pc"], library, **describe_library(library))



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
        return self.finish("rt", "mkl-sdl", self.prefix.name, pc_text, library, **{**info, "version": version})
