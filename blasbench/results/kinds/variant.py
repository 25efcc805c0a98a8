"""``variants/<name>/variant.json``: one of several setups measured side by side, with the sweep
(``scaling.json``) and threading map (``threadmap.json``) measured in its environment beside it."""

from __future__ import annotations

from pathlib import Path

from ...setups import VARIANTS
from ..analysis import analyse_variants, sweep_measures, variants_findings
from .base import Kind, conditions_were_setups, read_kind
from .scaling import KIND as SCALING
from .threadmap import KIND as THREADMAP
from .threadmap import analyse_threadmap


def _conditions(record: dict) -> dict:
    return {**record, "limits": conditions_were_setups(record["limits"])} if "limits" in record else record


class Variant(Kind):
    name, file = "variant", "variant.json"
    required = ("variant",)
    migrations = {9: _conditions}
    command, session = "scaling", "scaling"
    table, measure_title = "variants", "BLAS variants (seconds per CG iteration)"

    def load(self, directory: Path) -> list[dict] | None:
        """Every variant measured under ``directory``, in the setups' order, each with its sweep
        and threading map where there are; None where there is none."""
        order = list(VARIANTS)
        paths = sorted((Path(directory) / "variants").glob(f"*/{self.file}"),
                       key=lambda p: (order.index(p.parent.name) if p.parent.name in order else len(order), p))
        records = []
        for path in paths:
            record = read_kind(path, self)
            for beside in (SCALING, THREADMAP):
                found = path.with_name(beside.file)
                record[beside.name] = read_kind(found, beside) if found.exists() else None
            records.append(record)
        return records or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"variant {r['variant']['name']}", r["environment"]) for r in records if r.get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        maps = {r["variant"]["name"]: analyse_threadmap(r["threadmap"]) for r in records if r.get("threadmap")}
        measured, failed = analyse_variants(records, maps)
        return {"measured": measured, "failed": failed, "maps": maps,
                "comparison": variants_findings(measured) if measured else None}

    def measures(self, records: list[dict], findings: dict) -> dict[tuple, dict]:
        found: dict[tuple, dict] = {}
        for record in records:
            if record.get("scaling"):
                found.update(sweep_measures(record["scaling"], prefix=record["variant"]["name"] + " "))
        return found


KIND = Variant()
