"""A results directory, read once: every kind's result in it (checked and migrated by
:func:`blasbench.results.kinds.read_result`) and each kind's findings, analysed once, in one object that
the reports, ``compare`` and ``cluster`` take."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import UserError
from ..facts import PEERS
from .identity import IDENTITY_WORDS, describe, identity
from .kinds import KINDS


@dataclass
class Results:
    directory: Path
    found: dict[str, Any] = field(default_factory=dict)  # kind name -> its result (a list for variants)
    findings: dict[str, Any] = field(default_factory=dict)  # kind name -> what its analysis found

    @classmethod
    def load(cls, directory: Path) -> Results:
        directory = Path(directory)
        if not directory.is_dir():
            raise UserError(f"{directory} is not a results directory: pass one that `scaling`, `bench`, "
                            "`build-openblas` or `threadmap` wrote (default reports/).")
        found = {kind.name: result for kind in KINDS if (result := kind.load(directory)) is not None}
        for kind in (kind for kind in KINDS if kind.name in found):  # a result that gathers other directories
            if nested := kind.nested(directory):
                found[kind.name] = kind.gather(found[kind.name], {name: cls.load(path) for name, path in nested.items()})
        return cls(directory, found, {kind.name: kind.analyse(found[kind.name]) for kind in KINDS if kind.name in found})

    def __getitem__(self, kind: str) -> Any:
        """The result of ``kind`` (a kind's name) in this directory; None where there is none."""
        return self.found.get(kind)

    def bottom_line(self) -> dict | None:
        """What a user can act on, across the kinds found: the fastest rung of the sweep (not a peer) at
        its recommended thread count, and the variant that trained fastest; None when neither was measured."""
        found: dict = {}
        scaling, rungs = self["scaling"], self.findings.get("scaling")
        if scaling and (analysed := {r: a for r, a in (rungs or {}).items() if r not in PEERS}):
            def time_at_advice(a: dict) -> float:
                return next(r for r in a["rows"] if r["threads"] == a["recommendation"]["threads"])["wall"]["median"]

            rung, a = min(analysed.items(), key=lambda item: time_at_advice(item[1]))
            cores = ((scaling.get("environment") or {}).get("cpu") or {}).get("usable_cores")
            found.update(rung=rung, analysis=a, threads=a["recommendation"]["threads"],
                         all_cores=a["recommendation"]["threads"] == cores)
        if variants := (self.findings.get("variant") or {}).get("measured"):
            found["fastest_variant"] = min(variants, key=lambda v: v["best_seconds"])["name"]
        return found or None

    def environments(self) -> list[tuple[str, dict]]:
        """(what, environment) of every result that recorded one, as its kind says where."""
        return [found for kind in KINDS if kind.name in self.found for found in kind.environments(self.found[kind.name])]

    def mixed(self) -> dict[str, list[str]]:
        """The identity fields on which this directory's results differ, with their values (a
        dirty tree counts as its own commit). Variants and releases differ in BLAS and build by
        design: they count for the other fields only."""
        values: dict[str, list[str]] = {}
        for what, env in self.environments():
            ident = identity(env)
            for name in IDENTITY_WORDS:
                if what.startswith(("variant ", "release ")) and name in ("blas", "wheels"):
                    continue
                found = values.setdefault(name, [])
                if (text := describe(name, ident[name])) not in found:
                    found.append(text)
        return {name: found for name, found in values.items() if len(found) > 1}
