"""Why scaling stops: four experiments, each a measured table, on the build of this environment.

- ``timeout``: BLAS threads that finished their share keep spinning before they sleep; the
  CPU they burn shows in user and system time. ``OPENBLAS_THREAD_TIMEOUT`` (pthreads builds)
  or ``OMP_WAIT_POLICY=PASSIVE`` (OpenMP builds) makes them sleep sooner.
- ``sizes``: one cost-and-gradient at 1 and all threads over hidden-layer sizes and numbers
  of examples, to show where threads start to pay.
- ``malloc``: the seed's code allocates its 100 MB temporaries afresh in every evaluation;
  glibc maps them with mmap and unmaps them on free, so every evaluation page-faults them in
  again. Measured with glibc's defaults, with its malloc tunables, and with buffer reuse.
- ``limits``: whether each way of asking for one thread is honoured (OpenMP builds follow
  ``OMP_NUM_THREADS``, not ``OPENBLAS_NUM_THREADS``); run in every setup measured side by side.

Every child is a fresh process of :mod:`.worker` (``train``, ``dgemm``, ``evaluations``,
``provenance``) so that variables take effect before any library starts; each experiment is saved
once it finishes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from .. import UserError, last_line
from ..facts import DGEMM_SIZE, GLIBC_MMAP_THRESHOLD_MAX, HONOURED_CORES, LIMIT_CONDITIONS, NO_LIMIT, THREAD_VARIABLES
from ..results.kinds import write_result
from ..results.stats import summarize
from .sweep import Workload, current_identity, resume, run_child, run_fresh

SEED_RUNG = "0-seed"  # the code whose temporaries and single-threaded sigmoid the seed measured
BUFFER_RUNG = "5-fused-buffers"  # products into reused buffers, the sigmoid fused in numexpr
NEVER = str(1 << 40)  # a trim threshold no heap reaches

# name -> (rung, variables). glibc reads the MALLOC_*_ variables at start-up.
MALLOC_CONDITIONS = {
    "glibc defaults": (SEED_RUNG, {}),
    f"MALLOC_MMAP_THRESHOLD_={GLIBC_MMAP_THRESHOLD_MAX} (glibc's largest)":
        (SEED_RUNG, {"MALLOC_MMAP_THRESHOLD_": str(GLIBC_MMAP_THRESHOLD_MAX)}),
    "MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=1 TiB (heap kept, never unmapped)":
        (SEED_RUNG, {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": NEVER}),
    f"buffer reuse ({BUFFER_RUNG})": (BUFFER_RUNG, {}),
}


# The settings each experiment depends on: changing one re-measures only the experiments using it.
DEPENDS_ON = {
    "timeout": ("threads", "workload", "repeats"),
    "malloc": ("threads", "workload", "repeats"),
    "sizes": ("threads", "hidden_sizes", "example_counts", "repeats"),
    "limits": ("dgemm_size",),
}


@dataclass(frozen=True)
class WhySettings:
    threads: int
    workload: Workload = field(default_factory=lambda: Workload(iterations=3))
    repeats: int = 3
    hidden_sizes: tuple[int, ...] = (10, 25, 100, 300, 1000)
    example_counts: tuple[int, ...] = (100, 1000, 10000, 50000)
    dgemm_size: int = DGEMM_SIZE

    def of(self, experiment: str) -> dict:
        """The settings ``experiment`` depends on, as they read back from JSON."""
        return json.loads(json.dumps({name: asdict(self)[name] for name in DEPENDS_ON[experiment]}))


def spin_conditions(threading_layer: str) -> dict[str, dict]:
    """The variable that puts idle BLAS threads to sleep sooner, for this threading layer."""
    if threading_layer == "openmp":
        return {"OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"}}
    return {"OPENBLAS_THREAD_TIMEOUT=4 (sleep after 2^4 cycles)": {"OPENBLAS_THREAD_TIMEOUT": "4"}}


def run_summary(runs: list[dict]) -> dict:
    """Medians (and the wall time's spread) of repeated training results."""
    def median(values):
        return summarize(values)["median"]

    return {
        "runs": len(runs),
        "wall": summarize([r["seconds_total"] for r in runs]),
        "user": median([r["cpu_seconds"]["user"] for r in runs]),
        "system": median([r["cpu_seconds"]["system"] for r in runs]),
        "cpu_per_wall": median([(r["cpu_seconds"]["user"] + r["cpu_seconds"]["system"]) / r["seconds_total"]
                                for r in runs]),
        "minor_page_faults": median([r["page_faults"]["minor"] for r in runs]),
        "voluntary_switches": median([r["context_switches"]["voluntary"] for r in runs]),
        "seconds_per_evaluation": median([r["seconds_total"] / r["evaluations"] for r in runs]),
        "other_cores": max(r["load"]["other_cores"] for r in runs),
    }


def repeated_runs(settings: WhySettings, rung: str, threads: int, extra_env: dict, python: str, bar) -> dict:
    runs = []
    for _ in range(settings.repeats):
        runs.append(run_child(settings.workload, rung, threads, python=python, extra_env=extra_env))
        bar.update()
    return {"rung": rung, "threads": threads, "variables": extra_env, **run_summary(runs)}


def experiment_timeout(settings: WhySettings, python: str, threading_layer: str) -> list[dict]:
    conditions = [("1 thread (no idle threads)", 1, {})] + [("all threads, defaults", settings.threads, {})]
    conditions += [(name, settings.threads, variables) for name, variables in spin_conditions(threading_layer).items()]
    with tqdm(total=len(conditions) * settings.repeats, desc="idle threads", unit="run") as bar:
        return [{"condition": name, **repeated_runs(settings, SEED_RUNG, threads, variables, python, bar)}
                for name, threads, variables in conditions]


def experiment_malloc(settings: WhySettings, python: str) -> list[dict]:
    thread_counts = sorted({1, settings.threads})
    with tqdm(total=len(MALLOC_CONDITIONS) * len(thread_counts) * settings.repeats, desc="malloc", unit="run") as bar:
        return [{"condition": name, **repeated_runs(settings, rung, threads, variables, python, bar)}
                for name, (rung, variables) in MALLOC_CONDITIONS.items() for threads in thread_counts]


def run_probe(python: str, arguments: list[str], threads: int | None = None, variables: dict | None = None) -> dict:
    """``python -m blasbench.measuring.worker ARGUMENTS`` in a fresh process with only ``variables`` among
    the thread variables (or all of them set to ``threads``)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    env.update(variables or {})
    run = run_fresh([python, "-m", "blasbench.measuring.worker", *arguments], env=env)
    if run.returncode != 0:
        last = last_line(run.stderr)
        raise UserError(f"probe `{' '.join(arguments)}` failed with {python}: {last}")
    return json.loads(run.stdout)


def experiment_sizes(settings: WhySettings, python: str) -> list[dict]:
    grid = ["--rung", BUFFER_RUNG, "--hidden", ",".join(map(str, settings.hidden_sizes)),
            "--examples", ",".join(map(str, settings.example_counts)), "--repeats", str(settings.repeats)]
    by_threads = {}
    for threads in tqdm(sorted({1, settings.threads}), desc="problem sizes", unit="thread count"):
        by_threads[threads] = run_probe(python, ["evaluations", *grid], threads=threads)
    rows = []
    for cell_one, cell_all in zip(by_threads[1], by_threads[settings.threads]):
        rows.append({"hidden": cell_one["hidden"], "examples": cell_one["examples"], "rung": BUFFER_RUNG,
                     "one_thread": cell_one["seconds"], "all_threads": cell_all["seconds"],
                     "threads": settings.threads,
                     "speedup": cell_one["seconds"]["median"] / cell_all["seconds"]["median"]})
    return rows


def runtime_limits(python: str, size: int = DGEMM_SIZE) -> list[dict]:
    """Each way of asking for one BLAS thread, with what threadpoolctl reports and how many
    cores the DGEMM actually kept busy (CPU time over wall time). A limit is honoured or not only
    where the DGEMM without one kept more than one core busy: a library that runs one thread
    unless told (BLIS) has nothing to honour, and its limits are None, not "honoured"."""
    rows = []
    for name, variables in LIMIT_CONDITIONS.items():
        arguments = ["dgemm", "--size", str(size)] + (["--threadpoolctl", "1"] if "threadpoolctl" in name else [])
        probe = run_probe(python, arguments, variables=variables)
        limited = name != NO_LIMIT and rows[0]["dgemm"]["cpu_per_wall"] >= HONOURED_CORES  # rows[0]: no limit
        busy = probe["dgemm"]["cpu_per_wall"]
        rows.append({"condition": name, "variables": variables, "reported_threads": probe["reported_threads"],
                     "threading_layer": probe["threading_layer"], "dgemm": probe["dgemm"],
                     "usable_cores": probe["usable_cores"],
                     "peak_gflops_per_core_estimate": probe["peak_gflops_per_core_estimate"],
                     "honoured": (busy < HONOURED_CORES) if limited else None})
    return rows


def run_why(settings: WhySettings, experiments: list[str], path: Path, python: str = sys.executable) -> dict:
    """Run the experiments not yet in ``path`` with these settings, and save after each."""
    wanted = {"identity": current_identity(python)}
    results = resume(path, "why", wanted) or {"kind": "why", **wanted, "experiments": {}}
    layer = run_probe(python, ["dgemm", "--size", "64"])["threading_layer"]
    for name in experiments:
        wanted = settings.of(name)
        if results["experiments"].get(name, {}).get("settings") == wanted:
            print(f"why scaling stops: `{name}` already measured in {path}")
            continue
        started = time.monotonic()
        if name == "timeout":
            rows = experiment_timeout(settings, python, layer)
        elif name == "malloc":
            rows = experiment_malloc(settings, python)
        elif name == "sizes":
            rows = experiment_sizes(settings, python)
        else:
            rows = runtime_limits(python, settings.dgemm_size)
        results["experiments"][name] = {"settings": wanted, "rows": rows, "threading_layer": layer,
                                        "seconds": round(time.monotonic() - started, 1)}
        results["environment"] = run_probe(python, ["provenance"])
        write_result(path, results)
    return results
