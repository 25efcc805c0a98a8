"""setups.md's side-by-side part: several setups each measured in its own environment (``scaling`` or
``threadmap`` with ``--setup A B ...``), with its sweep, its runtime limits and its map."""

from __future__ import annotations

import json

from ..facts import HONOURED_CORES
from ..results.change import processes_to_decide
from ..results.directory import Results
from ..results.identity import blas_of
from ..results.kinds import MEASURED
from ..results.kinds.scaling import of_function
from ..setups import DEFAULT_VARIANT
from .format import PEAK_NOTE, duration, fmt, median_iqr, pct, provenance_lines, sentence, table, times
from .plots import plot_variants
from .scaling import ANSWER_WORDS, answer_table, answer_words, limits_matrix
from .threadmap import map_page, threadmap_line

PAGE = "setups.md"


def figures_and_pages(results: Results, out) -> dict[str, str | None]:
    """The figure of the setups' times, and each setup's threading map beside its sweep
    (variants/<name>/threadmap.md)."""
    found = results.findings["variant"]
    for record in results["variant"]:
        if record.get("threadmap"):
            name = record["variant"]["name"]
            map_page(out, f"variants/{name}/", record["threadmap"], found["maps"][name])
    return {"variants": out.figure(plot_variants, found["measured"], "variants") if found["measured"] else None}


def headline(results: Results) -> list[str]:
    found = results.findings["variant"]
    swept = {v["name"] for v in found["measured"]}
    return ([f"- [Setup]({PAGE}) `{v['name']}`: {verdict(v)}." for v in found["measured"]]
            + [f"- [Setup](variants/{name}/threadmap.md) `{name}`: {threadmap_line(found['maps'][name])}"
               for name in found["maps"] if name not in swept]
            + [f"- [Setups]({PAGE}#{anchor(measure, one['against'])}): {sentence(against_words(measure, one))}."
               for measure, one in found["against_one"].items()])


def against_title(measure: str, against: str) -> str:
    return f"Each setup's {MEASURED[measure].point_title} against `{against}`'s"


def anchor(measure: str, against: str) -> str:
    """The heading's anchor as Markdown renderers make it: lower case, spaces to dashes, punctuation dropped."""
    return "".join(c for c in against_title(measure, against).lower().replace(" ", "-") if c.isalnum() or c in "-_")


def against_words(measure: str, one: dict) -> str:
    """How many cells differ from the one setup's beyond noise, and how many are undecided, per setup."""
    by_setup: dict[str, list[str]] = {}
    for d in one["differences"]:
        by_setup.setdefault(d["setup"], []).append(d["verdict"])
    counted = "; ".join(f"`{setup}`: " + ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
                        for setup, verdicts in by_setup.items())
    undecided, option = sum(one["undecided"].values()), MEASURED[measure].more_processes
    decides = f"`{option} {processes_to_decide(one['fewest_processes'])}`" if option and undecided else "more processes"
    return (f"of {one['compared']:,} cells of {MEASURED[measure].point_title} compared with `{one['against']}`'s, "
            + (f"{len(one['differences'])} cell(s) differ beyond noise ({counted})" if by_setup else "none differs beyond noise")
            + (f"; {undecided} cell(s) differ by the change factor but are undecided ("
               + ", ".join(f"`{setup}` {n}" for setup, n in one["undecided"].items()) + f"): {decides} can decide them"
               if undecided else ""))


def against_sections(found: dict) -> list[str]:
    """Each setup's cells against the one setup's (the default build's, else the first), by the rule."""
    parts = []
    for measure, one in found["against_one"].items():
        kind = MEASURED[measure]
        parts += [f"## {against_title(measure, one['against'])}",
                  f"Every cell that `{one['against']}` and another setup both measured, at each thread count, compared by "
                  f"the rule: {against_words(measure, one)}. Each comparison is a chance of a false alarm: a difference "
                  "just past the change factor is the kind a second run does not always find again."]
        if one["differences"]:
            parts.append("\n".join(
                f"- `{d['setup']}`: {kind.cell_name(d)} at {d['threads']} thread(s): {duration(d['seconds'][1])}, "
                f"`{one['against']}` {duration(d['seconds'][0])}: **{d['verdict']}** ({times(d['ratio'])} the time, "
                f"p = {d['p']:.3g})" for d in one["differences"]))
    return parts


THREADING = {
    "serial": "single-threaded BLAS (DGEMM {speedup:.2f}x, {cores} usable cores)",
    "one unless told": "one BLAS thread unless told (DGEMM {speedup:.2f}x with no thread variable set, {cores} usable cores)",
    "parallel": "parallel BLAS (DGEMM {speedup:.2f}x on {threads} threads)",
    "no gain": "threads run but do not pay (DGEMM {speedup:.2f}x on {threads} threads)",
}


def verdict(variant: dict) -> str:
    """One line: does this variant run BLAS in parallel, does the workload gain, what is ignored."""
    words = THREADING[variant["threading"]].format(speedup=variant["dgemm_speedup"], threads=variant["threads_all"],
                                                   cores=variant["blas"]["usable_cores"])
    measured = "the function" if of_function(variant["settings"]) else "training"
    words += f", {measured} {variant['training_speedup']:.2f}x on {variant['all']['threads']} threads"
    words += ("; the fastest of these setups" if variant["fastest"] else
              f"; {variant['against_fastest']:.2f}x the fastest's time")
    if variant["ignored"]:
        words += "; **ignores** " + ", ".join(variant["ignored"])
    return words


def build_time(seconds: float | str | None) -> str:
    if seconds is None:
        return "not recorded"
    return seconds if isinstance(seconds, str) else f"{seconds / 60:.0f} min"


def findings_lines(findings: dict, digits: int = 2) -> str:
    """The headline: fastest here at one and at all threads, by how much, and identical binaries."""
    lines = []
    for end in ("one", "all"):
        f = findings[end]
        line = f"- **Fastest here at {f['threads']} thread(s): `{f['fastest']}`**, {f['seconds']:.{digits}f} s"
        if f["next"]:
            line += f"; the next, `{f['next']}`, " + {
                "slower": f"takes {f['ratio']:.2f}x as long",
                "undecided": f"takes {f['ratio']:.2f}x as long, but its repeats overlap the fastest's: undecided "
                             "(more --repeats decide)",
                "noise unknown": f"takes {f['ratio']:.2f}x as long, one repeat each: noise unknown",
            }.get(f["verdict"], f"is within noise of it ({f['ratio']:.2f}x its time)")
        lines.append(line + ".")
    for names in findings["same_binary"]:
        lines.append(f"- {', '.join(f'`{n}`' for n in names)} load the same BLAS binary (identical sha256): "
                     "their differences are noise or NumPy/SciPy's own build.")
    return "\n".join(lines)


def sections(found: dict, figure: str | None = None) -> list[str]:
    """The setups side by side as the variant kind's analysis found them: measured, failed, and compared."""
    measured, failed = found["measured"], found["failed"]
    parts = []
    if measured:
        parts += measured_sections(measured, found["comparison"], figure)
    if measured and of_function(measured[0]["settings"]):
        parts += ["## Does threading change the answer, per variant?", ANSWER_WORDS]
        for v in measured:
            parts += [f"### `{v['name']}`", answer_words(v["answers"]), answer_table(v["points"])]
    if found["maps"]:
        parts += ["## Threading map per setup",
                  "Each setup's NumPy and SciPy calls over sizes and thread counts (`threadmap --setup A B ...`, each in "
                  "its own environment), at its most threads: which BLAS makes which calls slower, up to which size.",
                  "\n".join(f"- [`{name}`](variants/{name}/threadmap.md): {threadmap_line(analysis)}"
                            for name, analysis in found["maps"].items())]
    parts += against_sections(found)
    if failed:
        names = {v["name"] for v in measured} | set(found["maps"])
        parts += ["## Not measured, or not to the end", "\n".join(
            f"- {r['variant']['name']}: {r.get('error', 'no sweep or map finished yet')}"
            + (" (above: what it measured before)" if r["variant"]["name"] in names else "") for r in failed)]
    if measured:
        parts += ["## Provenance", *(f"### {v['name']}\n\n" + provenance_lines(v["environment"], v["settings"]["threads"],
                                                                                  v["settings"]["workload"])
                                       for v in measured)]
    return parts


def measured_sections(measured: list[dict], findings: dict, figure: str | None) -> list[str]:
    """What was measured, the findings, the variants' table, their runtime limits and every thread count."""
    settings = measured[0]["settings"]
    w, function = settings["workload"], of_function(settings)
    what = (f"The same function (`{w['spec']}`" + (f" with `{json.dumps(w['args'])}`" if w["args"] else "")
            + f", source sha256 `{w['source_sha256'][:12]}`; times per call)" if function else
            f"The same training (`{settings['rungs'][0]}`, [{w['layers']}], {w['iterations']} CG iterations on "
            f"{w['train_size']:,} MNIST examples)")
    digits = 5 if function else 2  # a call takes milliseconds, a training seconds
    seconds = "s per call" if function else "training s"
    parts = [f"{what} in each variant's own environment, at {', '.join(map(str, settings['threads']))} thread(s), "
             f"{settings['repeats']} run(s) per point, each a fresh process with every thread variable set. DGEMM rates "
             "come from the runtime-limits probe (all thread variables = 1, and no limit). " + PEAK_NOTE
             + f" On the CPU of this run: {fmt(measured[0]['blas']['peak_gflops_per_core_estimate'], 1)} GFLOP/s per core.",
             findings_lines(findings, digits)]
    if figure:
        parts.append(f"![variants]({figure})")
    top = measured[0]["all"]["threads"]
    return parts + [
        table(["variant", "setup", "BLAS as reported (version, layer, core)", "DGEMM 1 thread GFLOP/s (of peak)",
               "DGEMM, no thread variable set: GFLOP/s on threads (of peak)", f"{seconds}, 1 thread", f"{seconds}, {top} threads",
               "speedup", *([f"time vs `{DEFAULT_VARIANT}` (1 / {top} threads)"] if findings["against_default"] else []),
               "NumPy + SciPy build", "verdict"], [variant_row(v, findings, digits) for v in measured]),
        "## Runtime thread limits",
        "Each way of asking for one thread, in a fresh process per cell: the threads threadpoolctl reports "
        f"and the cores the DGEMM kept busy (CPU/wall). A limit is honoured when at most {HONOURED_CORES} cores were busy.",
        limits_matrix(measured),
        "## Per thread count",
        table(["variant", "threads", f"{seconds} (median ± IQR/2)", "speedup",
               "s per call" if function else "s per CG iteration"],
              [[v["name"], r["threads"], median_iqr(r["wall"], digits), f"{r['speedup']:.2f}x",
                f"{r['seconds_per_iteration']:.3g}" if function else f"{r['seconds_per_iteration']:.3f}"]
               for v in measured for r in v["rows"]])]


def variant_row(v: dict, findings: dict, digits: int) -> list[str]:
    lib = v["blas"]
    blas = f"{lib['threading_layer']}" + (f", {lib['reported_threads']} thread(s)" if lib["reported_threads"] else "")
    info = blas_of(v["environment"]) or {}
    version = info.get("version") or (v["library"] or {}).get("version") or "–"
    return [f"**{v['name']}**", f"`{v['setup']}`: {v['description']}",
            f"{version}, {blas}, core {info.get('architecture') or '–'}",
            f"{v['dgemm_one']['gflops']:.1f} ({pct(v['share_of_peak_one'])})",
            f"{v['dgemm_all']['gflops']:.1f} on {v['threads_all']} ({pct(v['share_of_peak_all'])})",
            median_iqr(v["one"]["wall"], digits), median_iqr(v["all"]["wall"], digits), f"{v['training_speedup']:.2f}x",
            *([" / ".join(f"{r:.2f}x" for r in findings["against_default"][v["name"]].values())]
              if findings["against_default"] else []),
            build_time(v["build_seconds"]), verdict(v)]
