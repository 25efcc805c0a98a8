"""Markdown reports rendered from a results directory read and analysed once
(:class:`blasbench.results.directory.Results`): one module per kind of result, formatting what its analysis
found and deciding nothing. Each renderer module declares:

- ``KINDS``: the result kinds it renders (it is called when the directory has one of them);
- ``pages(results, out)``: writes its pages and figures through ``out`` (:class:`Output`);
- ``headline(results)``: its lines of the index, in :data:`RENDERERS`' order;

and, where its kind is a release axis's measure (it has cells), may declare ``point_pages(out, where,
result, analysed)``, the pages of one point's result, and ``release_tables(cells, releases, kind)``, its
tables across the releases (by default one per cell: the time at each thread count and the speedup).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from ..results.directory import Results
from ..store import atomic_write_text
from . import bench, build, cluster, compare, profile, scaling, setups, threadmap, workloads
from .format import glossary_footer
from .index import render_index

__all__ = ["render_all", "register", "Output"]

# The renderers, in the order the index lists their findings.
RENDERERS = [build, profile, scaling, bench, setups, workloads, threadmap, compare, cluster]

# Pages earlier versions wrote, by the page that now holds their findings: removed once it is written, so
# that a directory rendered again holds no page the index no longer names.
REPLACED = {"variants.md": "setups.md", "releases.md": "setups.md"}


def register(renderer) -> None:
    """Add a renderer (anything with ``KINDS``, ``pages`` and ``headline``, as the modules here): its pages
    are written and its lines join the index, after the others', wherever a directory has its kinds."""
    RENDERERS.append(renderer)


class Output:
    """Where a render writes: each page with the glossary's footer, atomically; the files written, listed."""

    def __init__(self, directory: Path, renderers: list = ()) -> None:
        self.directory, self.written, self.said_no_plots = Path(directory), [], False
        self.renderers = list(renderers)

    def renderer_of(self, kind: str):
        """The renderer of the result kind ``kind``: a page that shows another kind's result (a release
        point's measure) asks it for its pages."""
        return next(renderer for renderer in self.renderers if kind in renderer.KINDS)

    def page(self, name: str, text: str) -> None:
        path = self.directory / name
        atomic_write_text(path, text + glossary_footer(path.parent))
        self.written.append(path)

    def figure(self, plot: Callable[..., list[Path]], analysis, stem: str, *options) -> str | None:
        """Draw ``plot(analysis, stem, *options)`` beside the pages; the SVG's name for a page to show,
        or None where matplotlib is missing (said once: the pages are written without figures)."""
        try:
            self.written.extend(plot(analysis, self.directory / stem, *options))
        except ModuleNotFoundError as e:
            if e.name != "matplotlib":
                raise
            if not self.said_no_plots:
                print("figures not drawn: matplotlib is not installed here (`python3 -m pip install matplotlib`, "
                      "then `python3 -m blasbench report` draws them).", file=sys.stderr)
                self.said_no_plots = True
            return None
        return f"{Path(stem).name}.svg"


def shown(results: Results) -> list:
    """The renderers of the kinds ``results`` has."""
    return [renderer for renderer in RENDERERS if any(results[kind] is not None for kind in renderer.KINDS)]


def render_all(results: Results) -> list[Path]:
    """Render every report that ``results`` has data for, then the index (a cluster job's index is
    its renderer's page); returns the files written."""
    out = Output(results.directory, RENDERERS)
    for renderer in shown(results):
        renderer.pages(results, out)
    if results["cluster"] is None:
        out.page("index.md", render_index(results, [line for renderer in shown(results) for line in renderer.headline(results)]))
    for old, new in REPLACED.items():
        if (old_page := results.directory / old).exists() and results.directory / new in out.written:
            old_page.unlink()
            print(f"removed {old_page}: an earlier version's page, its findings now in {new}", file=sys.stderr)
    return out.written
