"""``releases/<point>/release.json``: one point of a release axis, an OpenBLAS release loaded under
one build or a NumPy release as PyPI's wheel (what was asked for, installed and loaded), with its
threading map (``threadmap.json``) beside it."""

from __future__ import annotations

from pathlib import Path

from ..analysis import analyse_threadmap, threadmap_cells
from ..change import beyond_noise, decide
from . import Kind, read_result

# The axes, in the order the report shows them: what each one's releases are releases of.
AXES = {"openblas": "OpenBLAS", "numpy": "NumPy"}


def version_tuple(version: str) -> tuple[int, ...]:
    """A release's index version (``0.3.28.0.2``) as numbers, so that 0.3.100 sorts after 0.3.28."""
    return tuple(int(part) for part in version.split("."))


def point_directory(axis: str, release: str) -> str:
    """A point's directory under ``releases/``: an OpenBLAS release by its version alone (as version 7
    wrote them), another axis's prefixed with its name (``numpy-2.0.2``)."""
    return release if axis == "openblas" else f"{axis}-{release}"


def label(record: dict) -> str:
    """How reports name a point: ``0.3.28.0.2``, ``NumPy 2.0.2``."""
    return record["release"] if record["axis"] == "openblas" else f"{AXES[record['axis']]} {record['release']}"


def _openblas_axis(data: dict) -> dict:
    """Version 8 added NumPy's wheel releases as a second axis: earlier points were OpenBLAS releases."""
    return {"axis": "openblas", **data}


class Release(Kind):
    name, file = "release", "release.json"
    required = ("release", "loaded")
    migrations = {8: _openblas_axis}

    def load(self, directory: Path) -> list[dict] | None:
        """Every point mapped under ``directory``, axis by axis, oldest release first, each with its map."""
        records = []
        for path in (Path(directory) / "releases").glob(f"*/{self.file}"):
            record = read_result(path, self.name)
            found = path.with_name("threadmap.json")
            record["threadmap"] = read_result(found, "threadmap") if found.exists() else None
            records.append(record)
        return sorted(records, key=lambda r: (list(AXES).index(r["axis"]), version_tuple(r["release"]))) or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"release {label(r)}", r["threadmap"]["environment"]) for r in records
                if (r.get("threadmap") or {}).get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        maps = {label(r): analyse_threadmap(r["threadmap"]) for r in records if r.get("threadmap") and "error" not in r}
        return analyse_releases(records, maps)


def analyse_releases(records: list[dict], maps: dict[str, dict]) -> dict:
    """Along each axis, oldest first: the points measured (and those refused), each one's map
    analysed (``maps``, by :func:`label`), its cells, and every cell whose time changed between
    consecutive releases of one axis by the rule for "changed", each saying whether the kernel set
    (the core type threadpoolctl reports) changed with it: then it is a packaging change, not a
    change of code. Points of two axes are never compared."""
    measured = [r for r in records if label(r) in maps]
    cells = {label(r): threadmap_cells(r["threadmap"]) for r in measured}
    changes = []
    for before, after in zip(measured, measured[1:]):
        if before["axis"] != after["axis"]:
            continue
        old, new = cells[label(before)], cells[label(after)]
        kernels = before["loaded"]["architecture"] != after["loaded"]["architecture"]
        for threads in sorted(set(old) & set(new)):
            for key in (key for key in old[threads] if key in new[threads]):
                change = decide(old[threads][key]["processes"], new[threads][key]["processes"])
                if beyond_noise(change["verdict"]):
                    changes.append({"axis": after["axis"], "before": label(before), "after": label(after), "call": key[0],
                                    "dtype": key[1], "n": key[2], "threads": threads, "kernels_changed": kernels,
                                    "seconds": [old[threads][key]["median"], new[threads][key]["median"]], **change})
    return {"measured": measured, "refused": [r for r in records if "error" in r], "maps": maps, "cells": cells,
            "changes": changes, "axes": [axis for axis in AXES if any(r["axis"] == axis for r in measured)]}


KIND = Release()
