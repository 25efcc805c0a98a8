"""reports/index.md: links and the headline findings."""

from __future__ import annotations

from pathlib import Path

from ..analysis import analyse_profile, analyse_scaling, analyse_threadmap, of_function, seed_figures, seed_scaling
from ..facts import PEERS
from ..provenance import blas_of, identity
from ..results import Results, describe
from .build import blas_word, verdict
from .format import mixed_banner, pct, ratio_words, thread_variable
from .profile import seed_profile_notes
from .scaling import cv_accuracy_line, why_headline
from .threadmap import threadmap_line


def headline(results: Results, variants: list[dict]) -> list[str]:
    """A few sentences on what each result found."""
    lines = []
    if build := results.build:
        probe = build["verification"].get("probe", {})
        blas = build["blas"]
        lines.append(f"- [Build](build.md): NumPy and SciPy compiled against the {blas['provider']} provider's {blas_word(blas)} "
                     f"{blas['version']} ({blas['threading_layer']}); verification "
                     f"**{verdict(build['verification'])}**"
                     + (f", DGEMM {probe['speedup']:.2f}x faster on all threads than on one." if probe else "."))
    if results.profile:
        rows = analyse_profile(results.profile)
        first, last = rows[0], rows[-1]
        lines.append(f"- [Profile](profile.md): at the seed's start the sigmoid takes {pct(first['share']['sigmoid'])} "
                     f"and the products {pct(first['share']['products'])} of the time (seed post: "
                     f"{seed_profile_notes()['0-seed']}); an evaluation at the ladder's last rung (`{last['rung']}`) is "
                     + ratio_words(first["seconds_per_evaluation"], last["seconds_per_evaluation"]) + ".")
    if results.scaling:
        seed = seed_scaling()
        for rung, a in analyse_scaling(results.scaling).items():
            top = a["rows"][-1]
            seed_then = (f"{seed['speedup'][top['threads']]:.2f}x at {top['threads']} threads, "
                         if top["threads"] in seed["speedup"] else "")
            partial = ("" if a["complete"] else
                       f" (partial: {a['measured_thread_counts']} of {a['asked_thread_counts']} thread counts measured in full)")
            advice = ("provisionally " if a["recommendation"]["provisional"] else "") + \
                f"use {a['recommendation']['threads']} thread(s)"
            lines.append(f"- [Scaling](scaling.md) `{rung}`: {top['speedup']:.2f}x at {top['threads']} threads "
                         f"({pct(top['efficiency'])} efficiency){partial}; {advice}."
                         + ("" if of_function(results.scaling["settings"]) else
                            f" Seed post: {seed_then}\"{seed_figures()['scaling']['conclusion']}\"."))
        if accuracy := cv_accuracy_line(results.scaling):
            lines.append(f"- [Accuracy](scaling.md#accuracy): {accuracy}")
    if bench := results.bench:
        lines.append(f"- [Bench](bench.md): {bench_line(bench)}")
    if results.why and results.why["experiments"]:
        lines.append(f"- [Why scaling stops](scaling.md#why-scaling-stops): {why_headline(results.why)}")
    for v in variants:
        lines.append(f"- [Variant](variants.md) `{v['name']}`: {v['verdict']}.")
    if results.threadmap:
        lines.append(f"- [Threading map](threadmap.md): {threadmap_line(analyse_threadmap(results.threadmap))}")
    if comparison := results.compare:
        flagged = sum(r["flag"] in ("slower", "faster") for rows in comparison["tables"].values() for r in rows)
        lines.append(f"- [Comparison](compare.md) of {len(comparison['runs'])} runs: {flagged} difference(s) beyond "
                     "the runs' noise.")
    return lines


def bottom_line(results: Results, variants: list[dict]) -> str | None:
    """One sentence a user can act on: the fastest rung at its recommended thread count, what to
    set for it, and where the answer to "which BLAS" is."""
    parts = []
    if results.scaling and (analysis := {r: a for r, a in analyse_scaling(results.scaling).items() if r not in PEERS}):
        def time_at_advice(a: dict) -> float:
            return next(r for r in a["rows"] if r["threads"] == a["recommendation"]["threads"])["wall"]["median"]

        rung, a = min(analysis.items(), key=lambda item: time_at_advice(item[1]))
        threads, env = a["recommendation"]["threads"], results.scaling.get("environment") or {}
        blas, variable = blas_of(env), thread_variable(env)
        cores = (env.get("cpu") or {}).get("usable_cores")
        what = f"{blas['internal_api']} {blas['version']} ({blas['threading_layer']})" if blas else "this BLAS"
        setting = ("nothing to set: by default it uses every usable core" if threads == cores else
                   f"set `{variable}={threads}`, or wrap the work in `threadpoolctl.threadpool_limits({threads})`")
        workload = (f"`{results.scaling['settings']['workload']['spec']}`" if of_function(results.scaling["settings"])
                    else f"the post's network, `{rung}`")
        parts.append(f"for {workload} at {threads} thread(s) on {what}: {setting}"
                     + (" (provisional: " + ("a smoke run" if a["smoke"] else "a partial sweep") + ")"
                        if a["recommendation"]["provisional"] else "") + ".")
    if variants:
        fastest = min(variants, key=lambda v: v["best_seconds"])
        parts.append(f"Of the BLAS setups measured, [`{fastest['name']}`](variants.md) trained fastest.")
    elif parts:
        parts.append("Which BLAS is fastest here: `python3 -m nox -s compare-variants` measures them side by side.")
    return ("**Bottom line** on " + (measured_machine(results) or "this machine") + ": " + " ".join(parts)) if parts else None


def bench_line(bench: dict) -> str:
    """At the most threads, per dtype: the fastest rung, and how it stands against PyTorch in the same dtype."""
    top = max(row["threads"] for row in bench["rows"])
    rows = [row for row in bench["rows"] if row["threads"] == top]
    parts = []
    for dtype in dict.fromkeys(row["dtype"] for row in rows if row.get("rung")):
        fastest = min((row for row in rows if row.get("rung") and row["dtype"] == dtype),
                      key=lambda row: row["seconds"]["median"])
        part = (f"in {dtype} `{fastest['rung']}`, {fastest['seconds']['median']:.3f} s per evaluation "
                f"({pct(fastest['share_of_dgemm'])} of the float64 DGEMM rate)")
        if torch := next((row for row in rows if row.get("peer") == f"PyTorch {dtype}"), None):
            part += f", {ratio_words(torch['seconds']['median'], fastest['seconds']['median'])} than PyTorch {dtype}"
        parts.append(part)
    return f"the fastest rung at {top} thread(s): " + "; ".join(parts) + "."


def measured_machine(results: Results) -> str | None:
    """The CPU(s) and usable cores this directory's results were measured on."""
    envs = [env for _, env in results.environments()]
    if not envs:
        return None
    cpus = sorted({describe("cpu", identity(env)["cpu"]) for env in envs})
    cores = sorted({str((env.get("cpu") or {}).get("usable_cores")) for env in envs})
    return f"{' / '.join(cpus)} ({' / '.join(cores)} usable cores)"


def measured_on(results: Results) -> str:
    """Where this directory's results were measured, each field once (the banner lists mixed ones)."""
    if (machine := measured_machine(results)) is None:
        return ""
    envs = [env for _, env in results.environments()]
    fields = {name: sorted({describe(name, identity(env)[name]) for env in envs}) for name in ("host", "commit")}
    return f"Measured on {machine}, host `{' / '.join(fields['host'])}`, commit `{' / '.join(fields['commit'])}`. "


def rerender_command(directory) -> str:
    """The exact command that renders this directory's reports again."""
    default = Path("reports")
    same = Path(directory).resolve() == default.resolve()
    return "python3 -m nox -s report" + ("" if same else f" -- --results {directory}")


def render_index(results: Results, variants: list[dict]) -> str:
    return "\n\n".join([
        "# Reports",
        *mixed_banner(results.mixed()),
        measured_on(results) + f"Every report is rendered from the JSON result beside it in `{results.directory}`; "
        f"`{rerender_command(results.directory)}` renders them again without rerunning anything.",
        "\n".join(headline(results, variants)) or
        "_No results yet: run `python3 -m nox -s build-openblas` and `python3 -m nox -s scaling`._",
        *([line] if (line := bottom_line(results, variants)) else []),
    ]) + "\n"
