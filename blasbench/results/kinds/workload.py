"""``workloads/<name>/workload.json``: one of several functions swept side by side on one setup
(``scaling --workload A B ...``), with its sweep (``scaling.json``) beside it; its analysis: each
workload against the first, thread count by thread count, by the rule for "changed"."""

from __future__ import annotations

import statistics
from pathlib import Path

from ..change import decide
from .base import Kind, read_kind
from .scaling import KIND as SCALING
from .scaling import analyse_scaling, sweep_measures


class Workload(Kind):
    name, file = "workload", "workload.json"
    required = ("name", "position", "workload")
    command, session = "scaling", "scaling"
    table, measure_title = "workloads", "Workloads side by side (seconds per call)"

    def load(self, directory: Path) -> list[dict] | None:
        """Every workload swept under ``directory``, in the order they were named, each with its sweep
        (``scaling``; None until its first repeat is saved)."""
        records = []
        for path in (Path(directory) / "workloads").glob(f"*/{self.file}"):
            record = read_kind(path, self)
            found = path.with_name(SCALING.file)
            record["scaling"] = read_kind(found, SCALING) if found.exists() else None
            records.append(record)
        return sorted(records, key=lambda r: r["position"]) or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"workload {r['name']}", r["scaling"]["environment"]) for r in records
                if (r.get("scaling") or {}).get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        return analyse_workloads(records)

    def measures(self, records: list[dict], findings: dict) -> dict[tuple, dict]:
        found: dict[tuple, dict] = {}
        for record in records:
            if record.get("scaling"):
                found.update(sweep_measures(record["scaling"], prefix=record["name"] + " "))
        return found


def walls(record: dict) -> dict[int, list[float]]:
    """A workload's seconds per call by thread count, one value per process: the measures ``compare`` and the
    gate take (:func:`.scaling.sweep_measures`)."""
    return {threads: measure["processes"] for (_, _, threads), measure in sweep_measures(record["scaling"]).items()}


def first_answer(record: dict) -> list | None:
    """The hashes of the answer at the fewest threads' first process (None: not summarised)."""
    first = min(record["scaling"]["points"], key=lambda p: (p["threads"], p["repeat"]))
    return [part["sha256"] for part in first["answer"]["parts"]] if "parts" in first["answer"] else None


def analyse_workloads(records: list[dict]) -> dict:
    """Each workload's sweep analysed (its rows and "use N threads"); every workload after the first held
    against the first at each thread count both measured: both medians, the ratio and the rule's verdict,
    and whether its answer is bit-for-bit the first's; the workloads that failed, with why."""
    measured = [r for r in records if (r.get("scaling") or {}).get("points")]
    failed = [{"name": r["name"], "asked": r["asked"], "error": r["error"]} for r in records if r.get("error")]
    sweeps = {r["name"]: analyse_scaling(r["scaling"])[r["workload"]["function"]] for r in measured}
    against = []
    if measured:
        base, base_walls, base_answer = measured[0], walls(measured[0]), first_answer(measured[0])
        for other in measured[1:]:
            other_walls, answer = walls(other), first_answer(other)
            rows = [{"threads": threads, "processes": [len(base_walls[threads]), len(other_walls[threads])],
                     "medians": [statistics.median(base_walls[threads]), statistics.median(other_walls[threads])],
                     **decide(base_walls[threads], other_walls[threads])}
                    for threads in sorted(set(base_walls) & set(other_walls))]
            against.append({"name": other["name"], "base": base["name"], "rows": rows,
                            "same_answer": None if base_answer is None or answer is None else answer == base_answer})
    return {"workloads": [{"name": r["name"], "asked": r["asked"], "spec": r["workload"]["spec"],
                           "revision": r["workload"].get("revision", ""), "sha256": r["workload"]["source_sha256"],
                           "analysis": sweeps[r["name"]]} for r in measured],
            "against_first": against, "failed": failed}


KIND = Workload()
