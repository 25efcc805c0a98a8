"""Several BLAS setups side by side on the same workload, in one run.

Each variant gets its own virtual environment under the cache: the wheels built (cached) against
its provider, in an environment named by their keys (``envs/<variant>-<digest>``, made once, shared
with the release axis's point of the same build: :func:`built_environment`), or PyPI's own
NumPy/SciPy wheels (``envs/pypi``), plus this project's code, installed afresh each run. In each
one the runtime-limits probe (which ways of asking for one thread are honoured, and the DGEMM rate
at one and all threads) and a thread sweep or a threading map run as fresh processes. Every
variant is built before any is timed; then the sweeps take a repeat of each variant in turn, and the
threading maps a round of each. Results land in ``<results>/variants/<variant>/`` (``variant.json``,
the sweep's ``scaling.json`` that ``scaling`` measures, the map's ``threadmap.json`` that ``threadmap``
measures), saved as they are measured; a rerun continues.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import UserError, pins
from ..building.build import BuiltWheel, build_all, install
from ..building.providers import BLASLibrary, setup_provider
from ..facts import DGEMM_SIZE
from ..results.identity import blas_libraries
from ..results.kinds import write_result
from ..setups import Setup, Variant
from ..store import cache_dir, digest, file_sha256, locked
from .sweep import ScalingSettings, current_identity, in_turn, resume, sweep_repeats
from .threadmap import MapSettings, map_rounds
from .why import runtime_limits


def installed_from() -> Path | None:
    """The directory pip (or pipx) installed this blasbench from, as the installation records it (PEP 610's
    ``direct_url.json``); None for an installation from anything else, or none."""
    try:
        recorded = json.loads(importlib.metadata.distribution("blasbench").read_text("direct_url.json") or "{}")
    except (importlib.metadata.PackageNotFoundError, json.JSONDecodeError):
        return None
    url = urllib.parse.urlparse(recorded.get("url", ""))
    return Path(urllib.request.url2pathname(url.path)) if url.scheme == "file" and "dir_info" in recorded else None


def project_root() -> Path:
    """This project's source tree, installed into each variant's environment: the current directory where it
    is a clone of this project, else the clone this blasbench was installed from (``pip install .``), where
    it still is one."""
    for root in (Path.cwd(), installed_from()):
        pyproject = root / "pyproject.toml" if root else None
        if pyproject and pyproject.exists() and 'name = "blasbench"' in pyproject.read_text():
            return root
    raise UserError("this command installs blasbench into environments of its own (a variant's, a release's) "
                    f"from its source tree, which neither {Path.cwd()} nor where this blasbench was installed from "
                    "is: run it from the repository root of a clone.")


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
    """This project's code afresh (its version never changes), then its own dependencies at their pins
    (:data:`blasbench.pins.PROJECT`); numpy and scipy are not among them, so what the environment has stays."""
    for how in (["--no-deps", "--force-reinstall"], list(pins.PROJECT)):
        if subprocess.run([python, "-m", "pip", "install", "-q", *how, str(project)]).returncode:
            raise UserError(f"installing this project into {python}'s environment failed (see pip's message above).")


def built_environment(name: str, library: BLASLibrary, project: Path, numpy: str = pins.NUMPY,
                      scipy: str | None = pins.SCIPY) -> tuple[str, list[BuiltWheel]]:
    """NumPy (and SciPy; None: NumPy alone) built against ``library`` (cached, like every build) in an
    environment of their own, named by ``name`` and the wheels' keys and made once; this project's code
    installed afresh each time, so that its processes run the code that records their commit."""
    wheels = build_all(library, numpy, scipy)
    python = virtual_environment(f"{name}-{digest([w.key for w in wheels])[:12]}", lambda python: install(wheels, python))
    install_project(python, project)
    return python, wheels


class Make:
    """The ways of making a setup's environment, which its kind picks from (:meth:`blasbench.setups.SetupKind.environment`);
    each returns what was installed: the ``python`` to measure with, the BLAS ``library`` built against, the ``wheels`` built."""

    def __init__(self, project: Path) -> None:
        self.project = project

    def built(self, setup: Setup, name: str) -> dict:
        """NumPy (and SciPy, unless the setup is NumPy alone) built (cached) against the kind's provider, in
        an environment of their own, with this project."""
        library = setup_provider(setup).ensure()
        python, built = built_environment(name, library, self.project, setup.numpy, setup.scipy)
        return {"python": python, "library": library.as_dict(),
                "wheels": [{"package": w.package, "version": w.version, "key": w.key, "cached": w.cached,
                            "build_seconds": w.manifest.get("build_seconds")} for w in built]}

    def wheels(self, setup: Setup, name: str) -> dict:
        """PyPI's NumPy (and SciPy) wheels of the setup's releases in an environment of their own, with this project."""
        python = virtual_environment(name + ("-numpy-only" if setup.scipy is None else ""))
        wanted = (f"numpy=={setup.numpy}", *((f"scipy=={setup.scipy}",) if setup.scipy else ()), *pins.RUNTIME)
        if subprocess.run([python, "-m", "pip", "install", "-q", *wanted]).returncode != 0:
            raise UserError("pip could not install PyPI's numpy/scipy wheels (see its message above).")
        install_project(python, self.project)
        return {"python": python, "library": None, "wheels": []}

    def here(self, setup: Setup) -> dict:
        """This environment as it is: its NumPy (and SciPy), whatever their BLAS; one it lacks is one line."""
        if missing := lacking("numpy", *(("scipy",) if setup.scipy else ())):
            raise UserError(f"--setup {setup}: {lacking_words(missing)}"
                            + (f", or measure NumPy alone (--setup {setup}+numpy-only)." if missing == ["scipy"] else "."))
        return {"python": sys.executable, "library": None, "wheels": []}


# What a measure needs of the environment it measures, and why (--setup installed).
NEEDS = {"numpy": "what is measured", "scipy": "SciPy's calls, and the network's optimiser",
         "numexpr": "the post's network's sigmoid"}


def lacking(*needed: str) -> list[str]:
    """The modules of ``needed`` (:data:`NEEDS`) this environment cannot import."""
    return [module for module in needed if importlib.util.find_spec(module) is None]


def lacking_words(missing: list[str]) -> str:
    """What this environment lacks, why a measure needs it, and the pip command that adds it."""
    return (f"this environment has no {' and no '.join(missing)} ({'; '.join(NEEDS[module] for module in missing)}): "
            f"`python3 -m pip install {' '.join(missing)}` here{'' if 'numpy' in missing else ' (it keeps your NumPy)'}")


def prepare(variant: Variant, project: Path) -> dict:
    """The variant's environment, made as its setup's kind makes one (built and cached, PyPI's wheels, or this one
    as it is); what was installed."""
    return variant.setup.of.environment(variant.setup, variant.name, Make(project))


def probed(variant: Variant, installed: dict, directory: Path, dgemm_size: int) -> dict:
    """The variant's record: what was installed, and the runtime limits probed in its environment
    (kept from an earlier run of the same identity)."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {"identity": current_identity(installed["python"]), "dgemm_size": dgemm_size}
    record = resume(directory / "variant.json", "variant", wanted)
    if record is not None and record.pop("error", None):  # an earlier run's: measured again now
        write_result(directory / "variant.json", record)
    if record is None or "limits" not in record:
        print(f"{variant.name}: probing the runtime thread limits ...", flush=True)
        record = {"kind": "variant", **wanted, "variant": variant.as_record(), "installed": installed,
                  "limits": runtime_limits(installed["python"], dgemm_size)}
        write_result(directory / "variant.json", record)
    return record


def compare_variants(variants: list[Variant], settings: ScalingSettings | None, results: Path,
                     dgemm_size: int = DGEMM_SIZE, quiet: Callable[[], None] = lambda: None,
                     map_settings: MapSettings | None = None) -> list[str]:
    """Every variant built (cached) and installed first; then, once
    ``quiet()`` lets the timings begin (it waits for free cores, or stops), each one's runtime limits
    probed, and (with ``settings``) the sweeps, (with ``map_settings``) the threading maps, measured a
    repeat (a round) of each variant in turn (:func:`.sweep.in_turn`), so that a machine that drifts over
    the run shifts every variant alike instead of reading as a difference between two. A variant that
    cannot be set up or measured here is reported and skipped; the names of those."""
    project = project_root()
    by_name = {variant.name: variant for variant in variants}
    failed: list[str] = []
    records: dict[str, dict] = {}

    def fail(name: str, error: UserError) -> None:
        """The error on the console and in the variant's record, beside what it measured before it
        (the report shows both)."""
        print(f"error: {name}: {error}", file=sys.stderr)
        failed.append(name)
        record = records.setdefault(name, {"kind": "variant", "variant": by_name[name].as_record()})
        record["error"] = str(error)
        write_result(results / "variants" / name / "variant.json", record)

    installed = {}
    for name, variant in by_name.items():
        print(f"== {name}: {variant.description} ({variant.setup})", flush=True)
        try:
            installed[name] = prepare(variant, project)
        except UserError as e:
            fail(name, e)
    quiet()  # a busy machine stops the comparison here, before any timing: every variant would wait for the same cores
    for name in installed:
        try:
            records[name] = probed(by_name[name], installed[name], results / "variants" / name, dgemm_size)
        except UserError as e:
            fail(name, e)

    def sweep(name: str) -> Iterator[dict]:
        """The variant's sweep, a repeat at a time, its record naming, once the sweep has an
        environment, the BLAS files its processes loaded, each with its SHA-256 (two variants can
        load the very same file, or an identical copy)."""
        try:
            for scaling in sweep_repeats(settings, results / "variants" / name / "scaling.json", installed[name]["python"]):
                if (environment := scaling.get("environment")) != records[name].get("environment"):
                    records[name]["environment"] = environment
                    records[name]["blas_sha256"] = {lib["filepath"]: file_sha256(Path(lib["filepath"]))
                                                    for lib in blas_libraries(environment)}
                    write_result(results / "variants" / name / "variant.json", records[name])
                yield scaling
        except UserError as e:
            fail(name, e)

    def threadmap(name: str) -> Iterator[dict]:
        try:
            yield from map_rounds(map_settings, results / "variants" / name / "threadmap.json", installed[name]["python"])
        except UserError as e:
            fail(name, e)

    stages = [("sweep", sweep, settings.repeats)] if settings else []
    if map_settings:
        stages.append(("threading map", threadmap, map_settings.rounds + 1))  # its rounds, then its further rounds
    for what, start, turns in stages:
        for _ in in_turn([name for name in records if name not in failed], start, turns,
                         lambda turn, name: print(f"== {name}, {what}:", flush=True)):
            pass
    return failed
