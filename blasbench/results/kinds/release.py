"""``releases/<version>/release.json``: one OpenBLAS release loaded under one build (what was asked
for, installed and loaded), with its threading map (``threadmap.json``) beside it."""

from __future__ import annotations

from pathlib import Path

from ..analysis import analyse_threadmap, threadmap_cells
from ..change import beyond_noise, decide
from . import Kind, read_result


def version_tuple(version: str) -> tuple[int, ...]:
    """A release's index version (``0.3.28.0.2``) as numbers, so that 0.3.100 sorts after 0.3.28."""
    return tuple(int(part) for part in version.split("."))


class Release(Kind):
    name, file = "release", "release.json"
    required = ("release", "loaded")

    def load(self, directory: Path) -> list[dict] | None:
        """Every release mapped under ``directory``, oldest first, each with its map."""
        records = []
        for path in sorted((Path(directory) / "releases").glob(f"*/{self.file}"), key=lambda p: version_tuple(p.parent.name)):
            record = read_result(path, self.name)
            found = path.with_name("threadmap.json")
            record["threadmap"] = read_result(found, "threadmap") if found.exists() else None
            records.append(record)
        return records or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"release {r['release']}", r["threadmap"]["environment"]) for r in records
                if (r.get("threadmap") or {}).get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        maps = {r["release"]: analyse_threadmap(r["threadmap"]) for r in records if r.get("threadmap") and "error" not in r}
        return analyse_releases(records, maps)


def analyse_releases(records: list[dict], maps: dict[str, dict]) -> dict:
    """Across OpenBLAS releases loaded under one build, oldest first: the releases measured (and those
    refused), each one's map analysed (``maps``), its cells, and every cell whose time changed between
    consecutive releases by the rule for "changed", each saying whether the kernel set (the core type
    threadpoolctl reports) changed with it: then it is a packaging change, not a change of code."""
    measured = [r for r in records if r["release"] in maps]
    cells = {r["release"]: threadmap_cells(r["threadmap"]) for r in measured}
    changes = []
    for before, after in zip(measured, measured[1:]):
        old, new = cells[before["release"]], cells[after["release"]]
        kernels = before["loaded"]["architecture"] != after["loaded"]["architecture"]
        for threads in sorted(set(old) & set(new)):
            for key in (key for key in old[threads] if key in new[threads]):
                change = decide(old[threads][key]["processes"], new[threads][key]["processes"])
                if beyond_noise(change["verdict"]):
                    changes.append({"before": before["release"], "after": after["release"], "call": key[0],
                                    "dtype": key[1], "n": key[2], "threads": threads, "kernels_changed": kernels,
                                    "seconds": [old[threads][key]["median"], new[threads][key]["median"]], **change})
    return {"measured": measured, "refused": [r for r in records if "error" in r], "maps": maps, "cells": cells,
            "changes": changes}


KIND = Release()
