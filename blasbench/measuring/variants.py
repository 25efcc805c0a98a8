"""Several BLAS setups side by side on the same workload, in one run.

Each variant gets its own virtual environment under the cache (``envs/<variant>``): the
wheels built (cached) against its provider, or PyPI's own NumPy/SciPy wheels, plus this
project. In each one the runtime-limits probe (which ways of asking for one thread are
honoured, and the DGEMM rate at one and all threads) and a thread sweep of one training
rung run as fresh processes. Results land in ``<results>/variants/<variant>/`` (``variant.json``
and the sweep's ``scaling.json``), saved as they are measured; a rerun continues.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from .. import MachineBusy, UserError, pins
from ..building.build import build_all, install
from ..facts import DGEMM_SIZE
from ..results.kinds import write_result
from ..setups import VARIANTS, Variant
from ..store import cache_dir, file_sha256, locked
from .sweep import ScalingSettings, current_identity, resume, run_scaling
from .threadmap import MapSettings, run_threadmap
from .why import runtime_limits


def project_root() -> Path:
    """This project's source tree, installed into each variant's environment."""
    root = Path.cwd()
    pyproject = root / "pyproject.toml"
    if not (pyproject.exists() and 'name = "blasbench"' in pyproject.read_text()):
        raise UserError("this command installs this project into environments of its own (a variant's, a "
                        "release's): run it from the repository root.")
    return root


def virtual_environment(name: str, fill: Callable[[str], None] = lambda python: None) -> str:
    """The virtual environment ``envs/<name>-pyX.Y`` under the cache, made once and reused; its python.
    ``fill(python)`` installs into it while it is made, beside its final place: an environment
    whose install failed or was interrupted is never found half-filled."""
    env = cache_dir() / "envs" / f"{name}-py{sys.version_info.major}.{sys.version_info.minor}"
    if (env / "bin" / "python").exists():
        return str(env / "bin" / "python")
    with locked(f"env-{env.name}", f"install of the environment {env.name}"):  # a cluster's nodes share the cache
        if not (env / "bin" / "python").exists():
            staging = env.with_name(env.name + f".tmp{os.getpid()}")
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(staging)], check=True)
            try:
                fill(str(staging / "bin" / "python"))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            shutil.rmtree(env, ignore_errors=True)
            os.replace(staging, env)
    return str(env / "bin" / "python")


def install_project(python: str, project: Path) -> None:
    """This project's code afresh (its version never changes), then its own dependencies where missing
    (threadpoolctl, tqdm: pyproject.toml pins them); numpy and scipy are not among them, so what the
    environment has stays."""
    for how in (["--no-deps", "--force-reinstall"], []):
        if subprocess.run([python, "-m", "pip", "install", "-q", *how, str(project)]).returncode:
            raise UserError(f"installing this project into {python}'s environment failed (see pip's message above).")


def prepare(variant: Variant, site_cfg: Path | None, project: Path) -> dict:
    """Build (cached) and install the variant's NumPy/SciPy and this project; what was installed."""
    python = virtual_environment(variant.name)
    library = variant.library(site_cfg)
    if library is None:
        pypi = (f"numpy=={pins.NUMPY}", f"scipy=={pins.SCIPY}", *pins.RUNTIME)
        if subprocess.run([python, "-m", "pip", "install", "-q", *pypi]).returncode != 0:
            raise UserError("pip could not install PyPI's numpy/scipy wheels (see its message above).")
        wheels = []
    else:
        built = build_all(library)
        install(built, python)
        wheels = [{"package": w.package, "version": w.version, "key": w.key, "cached": w.cached,
                   "build_seconds": w.manifest.get("build_seconds")} for w in built]
    install_project(python, project)
    return {"python": python, "library": library.as_dict() if library else None, "wheels": wheels}


def run_variant(variant: Variant, settings: ScalingSettings, directory: Path, site_cfg: Path | None,
                project: Path, dgemm_size: int, quiet: Callable[[], None] = lambda: None,
                map_settings: MapSettings | None = None) -> None:
    """Install, probe the runtime limits, sweep one variant into ``directory``, and map its calls
    when ``map_settings`` ask for it; ``quiet()`` runs between the build and the first timing (it
    waits for free cores, or stops)."""
    directory.mkdir(parents=True, exist_ok=True)
    record_path = directory / "variant.json"
    started = time.monotonic()
    installed = prepare(variant, site_cfg, project)
    quiet()
    wanted = {"identity": current_identity(installed["python"]), "dgemm_size": dgemm_size}
    record = resume(record_path, "variant", wanted)
    if record is None or "limits" not in record:
        print(f"{variant.name}: probing the runtime thread limits ...", flush=True)
        record = {"kind": "variant", **wanted, "variant": asdict(variant), "installed": installed,
                  "limits": runtime_limits(installed["python"], dgemm_size)}
        write_result(record_path, record)
    scaling = run_scaling(settings, directory / "scaling.json", installed["python"])
    record["environment"] = scaling.get("environment")
    # Two variants can load the very same file (or an identical copy): the report says so.
    record["blas_sha256"] = {lib["filepath"]: file_sha256(Path(lib["filepath"]))
                             for lib in (record["environment"] or {}).get("threadpool_info", [])
                             if lib.get("user_api") == "blas"}
    record["seconds_this_run"] = round(time.monotonic() - started, 1)
    write_result(record_path, record)
    if map_settings:
        run_threadmap(map_settings, directory / "threadmap.json", installed["python"])


def compare_variants(names: list[str], settings: ScalingSettings, results: Path, site_cfg: Path | None,
                     dgemm_size: int = DGEMM_SIZE, quiet: Callable[[], None] = lambda: None,
                     map_settings: MapSettings | None = None) -> list[str]:
    """Every variant in turn; a variant that cannot be set up here is reported and skipped."""
    project = project_root()
    failed = []
    for name in names:
        print(f"== {name}: {VARIANTS[name].description}", flush=True)
        directory = results / "variants" / name
        try:
            run_variant(VARIANTS[name], settings, directory, site_cfg, project, dgemm_size, quiet, map_settings)
        except MachineBusy:
            raise  # the next variant would wait for the same cores: stop, keeping what is measured
        except UserError as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            failed.append(name)
            if not (directory / "variant.json").exists():  # the report says why the row is missing
                write_result(directory / "variant.json", {"kind": "variant", "variant": asdict(VARIANTS[name]),
                                                          "error": str(e)})
    return failed
