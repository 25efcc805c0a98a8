"""``bisect.json``: a bisect's answer over one range of releases: for each cell that changed between
the range's ends, the two adjacent releases that hold the step, and whether fresh measures of that
pair confirmed it (or the release between that changed the other way)."""

from __future__ import annotations

from .base import Kind


class Bisect(Kind):
    name, file = "bisect", "bisect.json"
    required = ("axis", "releases", "findings")

    def analyse(self, result: dict) -> dict:
        """How many steps were placed, and how many of them fresh measures confirmed."""
        return {"placed": len(result["findings"]), "confirmed": sum(bool(f.get("confirmed")) for f in result["findings"])}


KIND = Bisect()
