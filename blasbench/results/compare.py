"""Merge result directories from different runs, machines or commits into one comparison.

Each directory is identified by the provenance its results recorded (CPU, cores, BLAS, NumPy,
commit, host), never by its name. Every measure found in the first directory (the baseline)
and in another is put side by side: medians with their spread, the ratio with its range, and
the verdict of the one rule for "changed" (:mod:`.change`) on one value per process.
"""

from __future__ import annotations

from pathlib import Path

from .. import UserError
from ..facts import CHANGE_FACTOR
from .change import decide, gate
from .directory import Results
from .identity import blas_of
from .kinds import KINDS
from .kinds.release import directory_of


def measures(results: Results) -> dict[str, dict[tuple, dict]]:
    """The comparable measures of one result directory, by table and key, as each kind gives them."""
    return {kind.table: found for kind in KINDS if results[kind.name] is not None
            and (found := kind.measures(results[kind.name], results.findings[kind.name]))}


def thread_effects(results: Results) -> list[dict]:
    """What the directory's own threading map says at its most threads, per dtype: each call's sizes
    where threads made it slower (and the worst ratio) and the size from which they pay; empty
    without a map. Side by side, these say which BLAS has the pathology, and where."""
    maps = results.findings["threadmap"]["maps"] if results["threadmap"] else []
    top = max((m["threads"] for m in maps), default=None)
    return [{"threads": top, "dtype": m["dtype"],
             "calls": [{"call": row["call"], "hurts": [cell["n"] for cell in row["hurts"]],
                        "undecided": [cell["n"] for cell in row["undecided"]],
                        "worst": row["worst"]["speedup"] if row["worst"] else None, "pays_from": row["pays_from"]}
                       for row in m["rows"]]}
            for m in maps if m["threads"] == top]


def processes(measure: dict) -> list[float]:
    """A measure's samples for the rule, one per process: a bench row timed in one process has only its
    median (its noise across processes is unknown)."""
    return measure.get("processes") or [measure["median"]]


def provenances(results: Results) -> list[dict]:
    """Every provenance recorded by the results in the directory."""
    found = [env for _, env in results.environments()]
    if not found:
        raise UserError(f"{results.directory} holds no result with recorded provenance (scaling.json, bench.json, "
                        "variants/...): pass a directory that `scaling`, `bench` or `threadmap` wrote.")
    return found


def merged_description(envs: list[dict]) -> dict:
    """One description of a directory; a field its results disagree on lists every value."""
    identities = [description(env) for env in envs]
    merged = {}
    for field in identities[0]:
        values = list(dict.fromkeys(str(i[field]) for i in identities))
        merged[field] = f"{min(values)} to {max(values)}" if field == "date" and len(values) > 1 else " / ".join(values)
    return merged


def description(env: dict) -> dict:
    """How a run is shown beside others: what makes two results comparable or not, as recorded
    (coarser than :func:`blasbench.results.identity.identity`, which decides whether a result is reused)."""
    lib = blas_of(env) or {}
    cpu = env.get("cpu", {})
    return {
        "cpu": f"{cpu.get('model')} ({cpu.get('usable_cores')} usable cores)",
        "blas": f"{lib.get('internal_api', 'unknown')} {lib.get('version') or ''} {lib.get('threading_layer') or ''} "
                f"{lib.get('architecture') or ''}".strip(),
        "numpy": (env.get("versions") or {}).get("numpy"),
        "python": env.get("python"),
        "commit": (env.get("git_commit") or "unknown")[:12],
        "host": env.get("host"),
        "date": env.get("date"),
    }


def compare_dirs(directories: list[Path], factor: float = CHANGE_FACTOR) -> dict:
    """The comparison of every directory against the first, as data."""
    resolved = [Path(d).resolve() for d in directories]
    if len(set(resolved)) < len(resolved):
        raise UserError("the same directory is given twice: compare different runs (e.g. reports reports/examples/NAME).")
    loaded = [Results.load(d) for d in directories]
    runs = [{"label": chr(ord("A") + i), "directory": str(r.directory), "description": merged_description(provenances(r)),
             "measures": measures(r), "thread_effects": thread_effects(r)} for i, r in enumerate(loaded)]
    base = runs[0]
    tables, unmatched = {}, {"base": 0, "other": 0}
    for run in runs[1:]:
        for table, rows in base["measures"].items():
            for key, summary in rows.items():
                if (other := run["measures"].get(table, {}).get(key)) is None:
                    unmatched["base"] += 1
                    continue
                tables.setdefault(table, []).append({
                    "key": list(key), "base": summary, "other_label": run["label"], "other": other,
                    "processes": [len(processes(summary)), len(processes(other))],
                    **decide(processes(summary), processes(other), factor)})
        unmatched["other"] += sum(1 for table, rows in run["measures"].items() for key in rows
                                  if key not in base["measures"].get(table, {}))
    differing = sorted({field for run in runs[1:] for field, value in run["description"].items()
                        if value != base["description"][field] and field not in ("date",)})
    return {"kind": "compare", "factor": factor,
            "runs": [{k: r[k] for k in ("label", "directory", "description", "thread_effects")} for r in runs],
            "differs_in": differing, "tables": tables, "unmatched": unmatched, "together": measured_together(resolved)}


# The folders under which one run keeps what it measured in turn: its setups, releases and workloads side by side.
IN_TURN = ("variants", "releases", "workloads")


def measured_together(directories: list[Path]) -> bool:
    """Whether the directories were measured in one run, a repeat (a round) of each in turn: points of one
    run's setups, releases or workloads side by side, so that a drift of the machine fell on each alike.
    Otherwise they were measured apart (a stored baseline), and such a drift reads as a change of every measure."""
    parents = {directory.parent for directory in directories}
    return len(parents) == 1 and next(iter(parents)).name in IN_TURN


def check_shared(comparison: dict, directories: list[Path]) -> None:
    """A user's comparison that shares no measure because a directory holds a release axis (a Slurm job's
    nodes, which each map an axis, compare so by design): one line naming the point directories to compare."""
    if comparison["tables"]:
        return
    for directory in directories:
        if records := Results.load(directory)["release"]:
            points = sorted(str(Path(directory) / "releases" / directory_of(record)) for record in records)
            raise UserError(f"{directory} holds a release axis, whose points are result directories of their own: "
                            f"compare one of them, e.g. {points[0]} ({len(points)} in all).")


def gate_comparison(comparison: dict, fail_on: str) -> dict:
    """A comparison's rows through the gate (:func:`.change.gate`), each row with its ``table`` and, as its
    ``processes``, the fewer of its two sides'; a comparison of no shared measure is an error, not a pass."""
    rows = [{**row, "table": table, "processes": min(row["processes"])}
            for table, found in comparison["tables"].items() for row in found]
    if not rows:
        raise UserError("the gate compared no measure: the runs share none (another grid of calls, sizes, thread counts "
                        "or workload); measure the new run as the baseline was measured.")
    return gate(rows, fail_on, comparison["factor"])
