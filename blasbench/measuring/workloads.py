"""Several functions side by side on one setup, in one run (``scaling --workload A B ...``): two versions
of one function (``f.py:fit@main f.py:fit``), or rival ways of computing one thing.

Each workload's sweep is kept under ``<results>/workloads/<name>/`` (``workload.json``: what it is and
its place in the list; ``scaling.json``: the sweep ``scaling --workload`` measures), saved as it is
measured, a rerun continuing. The sweeps take a repeat of each workload in turn (:func:`.sweep.in_turn`),
so that a machine that drifts over the run shifts every workload alike: the first is the baseline the
others are held against, by the rule for "changed", thread count by thread count.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, replace
from pathlib import Path

from .. import UserError
from ..results.kinds import write_result
from .sweep import ScalingSettings, in_turn, sweep_repeats
from .workload import FunctionWorkload


def measure_workloads(settings: ScalingSettings, workloads: dict[str, tuple[FunctionWorkload, str]],
                      results: Path) -> list[str]:
    """The sweep of ``settings`` for each of ``workloads`` (name -> the workload and its spelling as asked),
    a repeat of each in turn; the names of those that could not be measured (said on the console and
    kept in their record, beside what they measured before)."""
    failed: list[str] = []

    def sweep(name: str):
        workload, asked = workloads[name]
        directory = results / "workloads" / name
        directory.mkdir(parents=True, exist_ok=True)
        record = {"kind": "workload", "name": name, "asked": asked, "position": list(workloads).index(name),
                  "workload": asdict(workload)}
        write_result(directory / "workload.json", record)
        try:
            yield from sweep_repeats(replace(settings, rungs=(workload.function,), workload=workload),
                                     directory / "scaling.json")
        except UserError as e:
            print(f"error: {name}: {e}", file=sys.stderr)
            failed.append(name)
            write_result(directory / "workload.json", {**record, "error": str(e)})

    for _ in in_turn(list(workloads), sweep, settings.repeats,
                     lambda turn, name: print(f"== {name} ({workloads[name][1]}), repeat {turn + 1}:", flush=True)):
        pass
    return failed
