"""The kinds of result, one module each, and the result format they share.

A kind (:class:`Kind`) knows its file in a results directory, the fields every version of it has,
the migrations that bring an older file of it to the current version, the analysis run once when
a directory is read, and the measures ``compare`` puts side by side; nothing else does. Every
other list of kinds is derived from :data:`KINDS` (threadpoolctl's ``_ALL_CONTROLLERS``): the
directory reader (:mod:`blasbench.results.directory`), ``compare``, ``cluster`` and the reports iterate it.
Adding a kind is a :class:`Kind` and :func:`register`, and its renderer registered in :mod:`blasbench.render`.
"""

from __future__ import annotations

from pathlib import Path

from ...store import write_json
from . import bench, bisect, build, cluster, compare, profile, release, scaling, threadmap, variant, why, workload
from .base import MEASURED, RESULT_VERSION, Kind, read_kind

__all__ = ["KINDS", "BY_NAME", "MEASURED", "RESULT_VERSION", "Kind", "read_result", "register", "write_result"]


def write_result(path: Path, result: dict) -> None:
    """Write a result (a dict with a ``kind``) with the current schema version, atomically."""
    if result.get("kind") not in BY_NAME:
        raise ValueError(f"not a result kind: {result.get('kind')!r}")
    write_json(path, {**result, "version": RESULT_VERSION})


def read_result(path: Path, name: str) -> dict:
    """The result of the kind named ``name`` in ``path``, migrated to the current version (:func:`.base.read_kind`)."""
    return read_kind(path, BY_NAME[name])


KINDS: list[Kind] = []
BY_NAME: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind of result (threadpoolctl's ``register``): the directory reader, its analysis, ``compare``,
    ``cluster`` and the reports take it from here on."""
    if kind.name in BY_NAME:
        raise ValueError(f"a result kind named {kind.name!r} is registered already")
    KINDS.append(kind)
    BY_NAME[kind.name] = kind
    if kind.cell_fields:
        MEASURED[kind.name] = kind
    return kind


for module in (build, profile, scaling, why, variant, workload, bench, threadmap, release, bisect, compare, cluster):
    register(module.KIND)
