"""Markdown reports rendered from the results (one module per report); rendering formats
what :mod:`blasbench.analysis` found and never reruns anything."""

from __future__ import annotations

from pathlib import Path

from ..analysis import analyse_scaling, analyse_threadmap, analyse_variants, of_function
from ..results import Results, task_directories
from ..store import atomic_write_text
from .bench import render_bench
from .build import render_build
from .cluster import render_cluster
from .compare import render_compare
from .format import glossary_footer
from .index import render_index
from .plots import plot_scaling, plot_threadmap, plot_variants
from .profile import render_profile
from .scaling import render_scaling
from .threadmap import render_threadmap
from .variants import render_variants

__all__ = ["render_all"]


def render_all(results: Results) -> list[Path]:
    """Render every report that ``results`` (a directory read once) has data for, then the index;
    returns the files written."""
    directory, written = results.directory, []

    def write(name: str, text: str) -> None:
        atomic_write_text(directory / name, text + glossary_footer((directory / name).parent))
        written.append(directory / name)

    if results.compare:  # `compare`'s output, or a Slurm job's nodes side by side
        write("compare.md", render_compare(results.compare))
    if results.cluster:  # the job's own index; each task's directory has its own reports
        tasks = {number: Results.load(path) for number, path in task_directories(directory).items()}
        write("index.md", render_cluster(results.cluster, tasks, compared=results.compare is not None))
        return written
    if results.build:
        write("build.md", render_build(results.build))
    if results.profile:
        write("profile.md", render_profile(results.profile))
    if results.bench:
        write("bench.md", render_bench(results.bench))
    measured, failed = analyse_variants(results.variants)
    scaling = results.scaling if results.scaling and (results.scaling["points"] or results.scaling["refused"]) else None
    if scaling or results.why:
        figure = None
        if scaling and scaling["points"]:
            written.extend(plot_scaling(analyse_scaling(scaling), directory / "scaling", not of_function(scaling["settings"])))
            figure = "scaling.svg"
        write("scaling.md", render_scaling(results.scaling, figure, results.why, measured))
    if results.variants:
        figure = None
        if measured:
            written.extend(plot_variants(measured, directory / "variants"))
            figure = "variants.svg"
        write("variants.md", render_variants(measured, failed, figure))
    maps = [("", results.threadmap)] if results.threadmap else []
    maps += [(f"variants/{r['variant']['name']}/", r["threadmap"]) for r in results.variants if r.get("threadmap")]
    for where, threadmap in maps:  # this directory's map, and each variant's beside its sweep
        analysis = analyse_threadmap(threadmap)
        figure = None
        if analysis["maps"]:
            written.extend(plot_threadmap(analysis, directory / where / "threadmap"))
            figure = "threadmap.svg"
        write(f"{where}threadmap.md", render_threadmap(threadmap, analysis, figure))
    write("index.md", render_index(results, measured))
    return written
