"""The threading map: where BLAS threads pay and where they hurt, per call and size.

NumPy's and SciPy's calls (:mod:`.calls`) are timed over sizes at each thread count, each thread
count in a fresh process of :mod:`.worker` with every thread variable set (its limit checked with
threadpoolctl, as a sweep's points are). Every thread count is measured in ``rounds`` processes,
the rounds outermost and their order counterbalanced (1, 2, 4, then 4, 2, 1, then 1, 2, 4, ...), so
that a process that happens to run slower on a shared machine widens its cells' ranges instead of
reading as a thread effect, and a drift over the run, or a place in the round, falls on every
thread count alike. One thread goes first; a call's sizes stop growing where a single call takes
longer than ``max_seconds`` there, and the other processes time the same cells. Each process is
saved once measured; a rerun of the same settings on the same identity measures only what is
missing, and results of another identity are moved aside.

Where the rule for "changed" leaves a cell undecided after the rounds (its medians beyond the change
factor, the test not yet beyond chance), ``more_rounds`` further rounds measure those cells alone, at
one thread and at the thread counts where they are undecided, within ``more_time`` of the rounds' own
time. The cells are chosen once, after the rounds, and the further rounds' processes decide them on
their own (:func:`blasbench.results.kinds.threadmap.analyse_threadmap`): a fresh sample, looked at once, where
pooling them with the rounds' and testing after each would be testing until significant.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import UserError, last_line, provenance
from ..results.change import FEWEST_TO_DECIDE
from ..results.identity import identity
from ..results.kinds import write_result
from ..results.kinds.threadmap import undecided_cells
from .calls import CALLS, bytes_needed
from .sweep import current_identity, limit_problem, resume, run_fresh, thread_env

# log-spaced from 2 to 4,096: the small sizes are where threads hurt, the large where they pay
DEFAULT_SIZES = tuple(2 ** k for k in range(1, 13))
# What share of the memory available now the operands of the largest cell may take.
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class MapSettings:
    calls: tuple[str, ...] = tuple(CALLS)
    dtypes: tuple[str, ...] = ("float64",)
    sizes: tuple[int, ...] = DEFAULT_SIZES
    threads: tuple[int, ...] = (1,)
    measurements: int = 1  # of each cell in each process (each as long as CELL_SECONDS)
    # processes per thread count, interleaved: the rule for "changed" takes one value per process (with 5 a
    # side, p < 0.01 is within reach), and a process that happens to run slower reads as noise, not a thread effect
    rounds: int = 5
    # further rounds, each measuring only the cells the rounds leave undecided (beyond the change factor, not
    # beyond the test), which these processes alone then decide: 0, or enough to pass the test (FEWEST_TO_DECIDE)
    more_rounds: int = FEWEST_TO_DECIDE
    # ... within this share of the time the rounds took: a map on a noisy machine ends in a known time
    more_time: float = 0.25
    max_seconds: float = 1.0
    # call -> dtype -> the largest size to measure, set by a release axis from its first point, so that every
    # point maps the same cells; None: each call's sizes grow until one call takes longer than max_seconds
    largest: dict | None = None


def available_memory() -> int:
    """Bytes the kernel says can be allocated now without swapping (MemAvailable)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check_sizes(settings: MapSettings, available: int | None = None) -> None:
    """Refuse, before anything runs, sizes that are not positive or whose operands would not fit."""
    if not settings.sizes or min(settings.sizes) < 1:
        raise UserError("--sizes needs one or more positive sizes, e.g. --sizes 2 16 128 1024.")
    available = available_memory() if available is None else available
    call, dtype = max(((c, d) for c in settings.calls for d in settings.dtypes),
                      key=lambda cd: bytes_needed(cd[0], max(settings.sizes), cd[1], settings.dtypes))
    needed = bytes_needed(call, max(settings.sizes), dtype, settings.dtypes)
    if needed > MEMORY_SHARE * available:
        raise UserError(f"--sizes {max(settings.sizes)}: `{call}` in {dtype} needs {needed / 2**30:.1f} GiB, more than half "
                        f"of the {available / 2**30:.1f} GiB available now: pass smaller sizes.")


def largest_measured(cells: list[dict]) -> dict:
    """call -> dtype -> the largest size measured (what the other thread counts measure)."""
    found: dict = {}
    for cell in cells:
        if "seconds" in cell:
            found.setdefault(cell["call"], {})[cell["dtype"]] = max(cell["n"], found.get(cell["call"], {}).get(cell["dtype"], 0))
    return found


def sizes_of(result: dict) -> dict | None:
    """The sizes a map measures of each call (:func:`largest_measured`), as its first process (round 0,
    one thread) found them; None before that process has run."""
    first = next((run for run in result["runs"] if (run["round"], run["threads"]) == (0, 1)), None)
    return largest_measured(first["cells"]) if first else None


def run_threadmap(settings: MapSettings, path: Path, python: str = sys.executable, extra_env: dict | None = None) -> dict:
    """Measure every thread count of ``settings`` not yet in ``path``, saving after each; ``extra_env``:
    variables every process gets (the library path that loads another OpenBLAS release)."""
    *_, results = map_rounds(settings, path, python, extra_env)
    return results


def map_rounds(settings: MapSettings, path: Path, python: str = sys.executable,
               extra_env: dict | None = None) -> Iterator[dict]:
    """:func:`run_threadmap` a round at a time: the results after each round, then after the further
    rounds (a release axis takes a round of each release in turn)."""
    check_sizes(settings)
    wanted = {"settings": asdict(settings), "identity": current_identity(python, extra_env)}
    results = resume(path, "threadmap", wanted) or {"kind": "threadmap", **wanted, "runs": [], "environment": None}
    results["refused"] = []  # refused thread counts are tried again
    done = {(run["round"], run["threads"]): run for run in results["runs"]}
    only = sizes if (sizes := sizes_of(results)) is not None else settings.largest
    counts = sorted(set(settings.threads) | {1})  # one thread is every cell's baseline
    todo = [(r, threads) for r in range(settings.rounds) for threads in counterbalanced(counts, r)]

    def measure(round_: int, threads: int, cells: list[tuple] | None = None) -> None:
        nonlocal only
        command = [python, "-m", "blasbench.measuring.worker", "threadmap", "--calls", "|".join(settings.calls),
                   "--dtypes", ",".join(settings.dtypes), "--sizes", ",".join(map(str, settings.sizes)),
                   "--measurements", str(settings.measurements), "--max-seconds", str(settings.max_seconds)]
        if only is not None:
            command += ["--only", json.dumps(only)]
        if cells is not None:
            command += ["--cells", json.dumps(cells)]
        with provenance.load_around(provenance.children_cpu_seconds) as load:
            started = time.perf_counter()
            run = run_fresh(command, env=thread_env(threads, extra_env))
            wall = round(time.perf_counter() - started, 2)
        if run.returncode != 0:
            raise UserError(f"the threading map at {threads} thread(s) failed: {last_line(run.stderr)}")
        result = json.loads(run.stdout)
        if problem := limit_problem(result, threads):
            results["refused"].append({"round": round_, "threads": threads, "why": problem})
            print(f"refused ({threads} threads): {problem}", file=sys.stderr)
        else:
            results["runs"].append({"round": round_, "threads": threads, "cells": result["cells"], "load": load,
                                    "seconds": wall, "identity": identity(result["environment"])})
            results["environment"] = results["environment"] or result["environment"]
            if (round_, threads) == (0, 1):
                only = sizes_of(results)
        write_result(path, results)

    for position, (round_, threads) in enumerate(todo, 1):
        if (round_, threads) not in done:
            print(f"threading map: {threads} thread(s), round {round_ + 1} of {settings.rounds} ({position} of {len(todo)}): "
                  f"{len(settings.calls)} calls x {len(settings.sizes)} sizes x {len(settings.dtypes)} dtype(s) ...", flush=True)
            measure(round_, threads)
        if position % len(counts) == 0:
            yield results
    # the cells the rounds leave undecided, chosen once: the further rounds measure these and no others
    if not settings.more_rounds or not (undecided := undecided_cells(results, settings.rounds)):
        return
    union = sorted({cell for cells in undecided.values() for cell in cells})
    budget = settings.more_time * sum(run.get("seconds", 0) for run in results["runs"] if run["round"] < settings.rounds)
    last = settings.rounds + settings.more_rounds
    for round_ in range(settings.rounds, last):
        for threads, cells in counterbalanced([(1, union), *sorted(undecided.items())], round_):
            if (spent := sum(run.get("seconds", 0) for run in results["runs"] if run["round"] >= settings.rounds)) >= budget:
                print(f"threading map: the further rounds have taken their {settings.more_time:.0%} of the rounds' time "
                      f"({spent:.1f} s of {budget:.1f} s); {len(union)} cell(s) stay undecided.", flush=True)
                yield results
                return
            if (round_, threads) not in done:
                print(f"threading map: {len(cells)} undecided cell(s) at {threads} thread(s), further round "
                      f"{round_ - settings.rounds + 1} of {settings.more_rounds} ...", flush=True)
                measure(round_, threads, cells)
    yield results


def counterbalanced(items: list, round_: int) -> list:
    """A round's processes in order, every other round reversed (ABBA): a drift over the run, or the place
    in a round (first after another round's last process, or last), falls on every thread count alike."""
    return items if round_ % 2 == 0 else items[::-1]
