"""``bisect.json``: a bisect's answer over one range of releases: for each cell that changed between
the range's ends, the two adjacent releases that hold the step, and whether fresh measures of that
pair confirmed it (or the release between that changed the other way)."""

from __future__ import annotations

from .base import Kind


class Bisect(Kind):
    name, file = "bisect", "bisect.json"
    required = ("axis", "releases", "findings")


KIND = Bisect()
