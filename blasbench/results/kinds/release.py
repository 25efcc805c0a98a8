"""``releases/<point>/release.json``: one point of a release axis, an OpenBLAS release loaded under
one build (or a setup measured side by side, with NumPy built against it) or a NumPy release
as PyPI's wheel (what was asked for, installed and loaded), with what
was measured there beside it: a threading map (``threadmap.json``) or a sweep of the network or of
a user's function (``scaling.json``)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ... import UserError
from ..change import beyond_noise, decide
from .base import MEASURED, Kind, compare_cells, read_kind

# The axes, in the order the report shows them: what each one's releases are releases of.
AXES = {"openblas": "OpenBLAS", "numpy": "NumPy"}
# Version 7's points were OpenBLAS releases mapped, each directory named by its release alone.
FIRST_MEASURE = "threadmap"


def version_tuple(version: str) -> tuple[int, ...]:
    """A release's index version (``0.3.28.0.2``, or a library's ``0.3.23.dev``) as numbers, so that
    0.3.100 sorts after 0.3.28."""
    return tuple(int(part) for part in re.match(r"\d+(?:\.\d+)*", version).group().split("."))


def point_directory(axis: str, point: str, measure: str = FIRST_MEASURE) -> str:
    """A point's directory under ``releases/``: an OpenBLAS release's map by its version alone (as
    version 7 wrote them) or by its variant's name (``system-pthread``), another axis's prefixed with its
    name (``numpy-2.0.2``), another measure's with the measure's (``scaling-numpy-2.0.2``): one
    directory per point and measure."""
    name = point if axis == "openblas" else f"{axis}-{point}"
    return name if measure == FIRST_MEASURE else f"{measure}-{name}"


def directory_of(record: dict) -> str:
    return point_directory(record["axis"], record.get("variant") or record["release"], record["measure"])


def label(record: dict) -> str:
    """How reports name a point: ``0.3.28.0.2``, ``0.3.21 (system-pthread)``, ``NumPy 2.0.2``."""
    if record["axis"] != "openblas":
        return f"{AXES[record['axis']]} {record['release']}"
    return record["release"] + (f" ({record['variant']})" if record.get("variant") else "")


def along(found: dict, measure: str, axis: str) -> list[dict]:
    """The points measured along one axis and measure, oldest first."""
    return [r for r in found["measured"] if (r["measure"], r["axis"]) == (measure, axis)]


def cells_by_label(found: dict, records: list[dict]) -> dict[str, dict]:
    """Each point's cells, by the name reports give the point."""
    return {label(r): found["cells"][directory_of(r)] for r in records}


def key_fields(measure: str, key: tuple) -> dict:
    """A cell's key by its fields' names (a map's ``call``, ``dtype``, ``n``; a sweep's ``rung``, ``workload``)."""
    return dict(zip(MEASURED[measure].cell_fields, key))


def measure_order(measure: str) -> int:
    return list(MEASURED).index(measure)


def _openblas_maps(data: dict) -> dict:
    """Version 8 added NumPy's wheel releases as a second axis and sweeps as a second measure: earlier
    points were OpenBLAS releases, mapped."""
    return {"axis": "openblas", "measure": FIRST_MEASURE, **data}


class Release(Kind):
    name, file = "release", "release.json"
    required = ("release", "loaded")
    migrations = {8: _openblas_maps}

    def load(self, directory: Path) -> list[dict] | None:
        """Every point measured under ``directory``, measure by measure and axis by axis, oldest
        release first, each with its result (``result``; None until its first process is saved)."""
        records = []
        for path in (Path(directory) / "releases").glob(f"*/{self.file}"):
            record = read_kind(path, self)
            if (measure := MEASURED.get(record["measure"])) is None:
                raise UserError(f"{path} was measured as {record['measure']!r}, which this blasbench does not read: "
                                "update blasbench (git pull) to read it.")
            found = path.with_name(measure.file)
            record["result"] = read_kind(found, measure) if found.exists() else None
            records.append(record)
        return sorted(records, key=lambda r: (measure_order(r["measure"]), list(AXES).index(r["axis"]),
                                              version_tuple(r["release"]), r.get("variant", ""))) or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"release {label(r)}", r["result"]["environment"]) for r in records
                if (r.get("result") or {}).get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        analysed = {directory_of(r): MEASURED[r["measure"]].analyse(r["result"]) for r in records
                    if r.get("result") and "error" not in r}
        return analyse_releases(records, analysed)


def analyse_releases(records: list[dict], analysed: dict[str, dict]) -> dict:
    """Along each axis and measure, oldest first: the points measured (and those refused), each
    one's result analysed (``analysed``, by its directory), its cells, and every cell whose time
    changed between consecutive releases of one axis and measure by the rule for "changed", each
    saying whether the kernel set (the core type threadpoolctl reports) or the build (a variant's
    point beside the wheels') changed with it: then it is a packaging change, not
    (only) a change of code; and how many cells were compared so (each one a chance of a false
    alarm). Points of two axes or measures are never compared."""
    measured = [r for r in records if directory_of(r) in analysed]
    cells = {directory_of(r): MEASURED[r["measure"]].cells(r["result"]) for r in measured}
    changes, compared = [], Counter()
    for before, after in zip(measured, measured[1:]):
        if (before["axis"], before["measure"]) != (after["axis"], after["measure"]):
            continue
        old, new = cells[directory_of(before)], cells[directory_of(after)]
        kernels = before["loaded"]["architecture"] != after["loaded"]["architecture"]
        build = before.get("variant") != after.get("variant")
        for change in compare_cells(MEASURED[after["measure"]], old, new):
            compared[after["measure"], after["axis"]] += 1
            if beyond_noise(change["verdict"]):
                changes.append({"axis": after["axis"], "measure": after["measure"], "before": label(before),
                                "after": label(after), **change, "kernels_changed": kernels, "build_changed": build})
    lines = list(dict.fromkeys((r["measure"], r["axis"]) for r in measured))
    return {"measured": measured, "refused": [r for r in records if "error" in r], "analysed": analysed, "cells": cells,
            "changes": changes, "compared": {line: compared[line] for line in lines}, "lines": lines}


def across_nodes(nodes: dict[str, dict]) -> list[dict]:
    """Each step between two releases that changed a cell on some node (``nodes``: a node's release
    findings, by node), read on every node within that node by the rule: per node its verdict, ratio
    and p, or None where that node did not measure both releases. A release on one node is never
    compared with a release on another: what the nodes share is the question, not their timings."""
    steps: dict[tuple, dict] = {}
    for found in nodes.values():
        for change in found["changes"]:
            fields = MEASURED[change["measure"]].cell_fields
            cell = tuple(change[field] for field in fields)
            key = (change["axis"], change["measure"], change["before"], change["after"], cell, change["threads"])
            steps.setdefault(key, {k: change[k] for k in ("axis", "measure", "before", "after", "threads",
                                                           *fields)})
    rows = []
    for (axis, measure, before, after, cell, threads), step in steps.items():
        verdicts = {}
        for node, found in nodes.items():
            cells = cells_by_label(found, along(found, measure, axis))
            old, new = (cells.get(name, {}).get(threads, {}).get(cell) for name in (before, after))
            verdicts[node] = ({k: v for k, v in decide(old["processes"], new["processes"]).items()
                               if k in ("verdict", "ratio", "p")} if old and new else None)
        rows.append({**step, "nodes": verdicts})
    return sorted(rows, key=lambda r: (measure_order(r["measure"]), list(AXES).index(r["axis"])))


KIND = Release()
