"""The thread-scaling sweep and the profiling sweep, both as fresh child processes of
``python -m nn train``.

Each scaling point (variant, threads, repeat) runs in a new process with every thread variable
set together, so the limit takes effect before any library starts its pool; the child records
threadpoolctl's view and a point whose limit did not take effect is refused. Every finished
point is written to the results file at once; a rerun with the same settings skips it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import UserError
from .store import digest, read_json, write_json

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Workload:
    """What one child trains: the seed's defaults."""

    iterations: int = 50
    train_size: int = 50000
    layers: str = "784,300,10"
    lmbda: float = 5.0
    seed: int = 0
    data_dir: str | None = None

    def command(self, rung: str, output: Path, profile: Path | None = None, python: str = sys.executable) -> list[str]:
        command = [python, "-m", "nn", "train", "--quiet", "--rung", rung, "--cv-every", "0",
                   "--layers", self.layers, "--lmbda", str(self.lmbda), "--iterations", str(self.iterations),
                   "--train-size", str(self.train_size), "--seed", str(self.seed), "--json", str(output)]
        if self.data_dir:
            command += ["--data-dir", self.data_dir]
        if profile:
            command += ["--profile", str(profile)]
        return command


@dataclass(frozen=True)
class ScalingSettings:
    variants: tuple[str, ...]
    threads: tuple[int, ...]
    repeats: int
    workload: Workload = field(default_factory=Workload)
    warmup: bool = True

    @property
    def key(self) -> str:
        return digest(asdict(self))[:16]


def thread_env(threads: int | None, extra: dict | None = None) -> dict:
    """This process's environment with every thread variable set to ``threads`` (None: left
    as it is), plus ``extra`` variables."""
    env = dict(os.environ)
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    return {**env, **(extra or {})}


def run_child(workload: Workload, rung: str, threads: int | None, profile: Path | None = None,
              python: str = sys.executable, extra_env: dict | None = None) -> dict:
    """One training run in a fresh process of ``python``; returns its JSON result, with the
    process's own wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "result.json"
        started = time.perf_counter()
        run = subprocess.run(workload.command(rung, output, profile, python), env=thread_env(threads, extra_env),
                             capture_output=True, text=True)
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"training run ({rung}, {threads} threads) failed: {last}")
        result = read_json(output)
    result["process_seconds"] = time.perf_counter() - started
    return result


def limit_problem(result: dict, threads: int) -> str | None:
    """Why a point's thread limit did not take effect, or None when it did."""
    env = result["environment"]
    for lib in env["threadpool_info"]:
        serial_by_design = lib.get("threading_layer") == "disabled" and lib["num_threads"] == 1
        if lib["num_threads"] != threads and not serial_by_design:
            return f"{lib['internal_api']} ran {lib['num_threads']} threads, not {threads} ({lib['filepath']})"
    if env.get("numexpr_threads") not in (None, threads):
        return f"numexpr ran {env['numexpr_threads']} threads, not {threads}"
    return None


def point_from(result: dict, variant: str, threads: int, repeat: int) -> dict:
    return {
        "variant": variant, "threads": threads, "repeat": repeat,
        "wall": result["seconds_total"], "user": result["cpu_seconds"]["user"],
        "system": result["cpu_seconds"]["system"], "process_wall": result["process_seconds"],
        "seconds_per_iteration": result["seconds_per_iteration"], "evaluations": result["evaluations"],
        "phases": result["phase_seconds"], "cv_accuracy": result["final"]["cv_accuracy"],
        "load_average": result["environment"]["load_average"],
    }


def resume(path: Path, field_name: str, value) -> dict | None:
    """The results in ``path`` if they were measured with the same settings; results of other
    settings are moved aside (never overwritten) and None is returned."""
    if not path.exists():
        return None
    previous = read_json(path)
    if previous.get(field_name) == value:
        return previous
    aside = path.with_name(f"{path.stem}-{digest(previous.get(field_name))[:8]}{path.suffix}")
    os.replace(path, aside)
    print(f"{path} held results of other settings: moved to {aside}; starting afresh.", file=sys.stderr)
    return None


def run_scaling(settings: ScalingSettings, path: Path, python: str = sys.executable) -> dict:
    """Measure every missing point of ``settings`` with ``python``'s environment and keep
    ``path`` up to date after each."""
    fresh = {"kind": "scaling", "settings": asdict(settings), "settings_key": settings.key,
             "points": [], "refused": [], "environment": None}
    results = resume(path, "settings_key", settings.key) or fresh
    results["refused"] = []  # refused points are tried again
    done = {(p["variant"], p["threads"], p["repeat"]) for p in results["points"]}
    todo = [(v, t, r) for v in settings.variants for t in settings.threads for r in range(settings.repeats)
            if (v, t, r) not in done]
    if not todo:
        print(f"all {len(done)} points of this sweep are already measured in {path}")
        return results
    warmed = set()
    with tqdm(total=len(todo), desc="scaling sweep", unit="point", dynamic_ncols=True) as bar:
        for variant, threads, repeat in todo:
            bar.set_postfix(variant=variant, threads=threads, repeat=repeat)
            if settings.warmup and variant not in warmed:
                run_child(Workload(**{**asdict(settings.workload), "iterations": 2}), variant, max(settings.threads),
                          python=python)
                warmed.add(variant)
            result = run_child(settings.workload, variant, threads, python=python)
            if results["environment"] is None:
                results["environment"] = result["environment"]
            if problem := limit_problem(result, threads):
                results["refused"].append({"variant": variant, "threads": threads, "repeat": repeat, "why": problem})
                tqdm.write(f"refused ({variant}, {threads} threads): {problem}")
            else:
                results["points"].append(point_from(result, variant, threads, repeat))
            write_json(path, results)
            bar.update()
    return results
