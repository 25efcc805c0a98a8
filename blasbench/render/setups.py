"""reports/setups.md: every setup a run measured, in one report however the setups were given: side by
side (``--setup A B ...``: each setup's sweep, runtime limits and map, and which is fastest), and in order
(a range of releases: each release, the changes between neighbours, and a bisect's steps)."""

from __future__ import annotations

from ..results.directory import Results
from . import releases, variants
from .format import change_rule

KINDS = ("variant", "release", "bisect")


def parts_of(results: Results) -> list:
    """The parts this directory has: setups side by side, releases in order, or both."""
    return [part for part, kinds in ((variants, ("variant",)), (releases, ("release", "bisect")))
            if any(results[kind] is not None for kind in kinds)]


def pages(results: Results, out) -> None:
    """setups.md, its figures, and each setup's own pages (under variants/ and releases/)."""
    figures = {stem: name for part in parts_of(results) for stem, name in part.figures_and_pages(results, out).items()}
    tables = releases.tables_of(results.findings["release"], out) if releases in parts_of(results) else None
    out.page("setups.md", render_setups(results, figures, tables))


def headline(results: Results) -> list[str]:
    return [line for part in parts_of(results) for line in part.headline(results)]


def render_setups(results: Results, figures: dict[str, str | None] | None = None, tables: dict | None = None) -> str:
    """setups.md: ``figures`` by their stem (none drawn where missing); ``tables``: each measure's tables across
    releases (:func:`blasbench.render.releases.tables_of`)."""
    figures = figures or {}
    parts = ["# Setups side by side",
             f"A difference between two setups counts by the one rule for \"changed\": {change_rule()}."]
    if variants in parts_of(results):
        parts += variants.sections(results.findings["variant"], figures.get("variants"))
    if releases in parts_of(results):
        parts += releases.sections(results.findings["release"], figures, results["bisect"], tables)
    return "\n\n".join(parts) + "\n"
