"""``releases/<version>/release.json``: one OpenBLAS release loaded under one build (what was asked
for, installed and loaded), with its threading map (``threadmap.json``) beside it."""

from __future__ import annotations

from pathlib import Path

from ..analysis import analyse_releases, analyse_threadmap
from . import Kind, read_result


class Release(Kind):
    name, file = "release", "release.json"
    required = ("release", "loaded")

    def load(self, directory: Path) -> list[dict] | None:
        """Every release mapped under ``directory``, oldest first, each with its map."""
        def version(path: Path) -> tuple[int, ...]:
            return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())

        records = []
        for path in sorted((Path(directory) / "releases").glob(f"*/{self.file}"), key=version):
            record = read_result(path, self.name)
            found = path.with_name("threadmap.json")
            record["threadmap"] = read_result(found, "threadmap") if found.exists() else None
            records.append(record)
        return records or None

    def analyse(self, records: list[dict]) -> dict:
        maps = {r["release"]: analyse_threadmap(r["threadmap"]) for r in records if r.get("threadmap") and "error" not in r}
        return analyse_releases(records, maps)


KIND = Release()
