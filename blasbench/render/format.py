"""The number and table formatting every report shares (pyperf's _formatter, in Markdown)."""

from __future__ import annotations

import os
from pathlib import Path

from ..facts import CHANGE_FACTOR, THREAD_VARIABLES
from ..results.change import ALPHA
from ..results.identity import IDENTITY_WORDS, blas_libraries, blas_of

GLOSSARY = Path("docs") / "glossary.md"  # in the clone that holds the results


def sentence(words: str) -> str:
    """``words`` as a sentence begins: the first letter raised, the rest as written."""
    return words[:1].upper() + words[1:]


def change_rule(factor: float = CHANGE_FACTOR) -> str:
    """The rule for "changed" (:mod:`blasbench.results.change`), as the reports state it."""
    return (f"a difference counts only when the medians differ by {factor:.2f}x or more *and* a two-sided "
            f"Mann-Whitney U test on one value per process (its median) gives p < {ALPHA:g}; beyond the factor but "
            "not the test is **undecided** (more processes decide), and a side measured in one process has no known noise")


def glossary_footer(directory: Path) -> str:
    """Every report ends pointing to the glossary: linked when the results lie inside a clone
    (reports/ and its subdirectories), named otherwise."""
    directory = Path(directory).resolve()
    clone = next((d for d in (directory, *directory.parents) if (d / GLOSSARY).is_file()), None)
    where = f"[{GLOSSARY}]({os.path.relpath(clone / GLOSSARY, directory)})" if clone else f"blasbench's {GLOSSARY}"
    return f"\n---\n\n_Every word of this report means one thing, written in {where}._\n"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def times(ratio: float) -> str:
    """A speedup or ratio as "1.85x"; below 0.1, two significant digits ("0.0031x"), never "0.00x"."""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def signed_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.0f}%"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}" if seconds >= 0.01 else f"{seconds * 1e3:.2f}"


def duration(seconds: float) -> str:
    """A time with the unit that keeps four digits: a threading map's cells run from microseconds to seconds."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= scale:
            return f"{seconds / scale:.4g} {unit}"
    return f"{seconds * 1e6:.4g} µs"


def median_iqr(summary: dict, digits: int = 2) -> str:
    return f"{summary['median']:.{digits}f} ± {summary['iqr'] / 2:.{digits}f}"


def change(new: float, old: float) -> str:
    return signed_pct(new / old - 1) if old else "–"


def thread_variable(env: dict | None) -> str:
    """The variable that sets the thread count of the BLAS ``env`` loaded, from threadpoolctl's name
    for it (OPENBLAS_NUM_THREADS, BLIS_NUM_THREADS, MKL_NUM_THREADS); OMP_NUM_THREADS when it knows none."""
    blas = blas_of(env)
    return f"{blas['internal_api'].upper()}_NUM_THREADS" if blas else "OMP_NUM_THREADS"


def provenance_lines(env: dict | None, threads: list[int] | None = None, workload: dict | None = None) -> str:
    """Where one result was measured, as a list. ``threads``: the thread counts its measurements ran
    at, each in a process of its own, when ``env`` was recorded by another process: its thread count
    and thread variables are then that process's, not the measurements', and are not shown as theirs.
    ``workload``: a sweep's, whose function file's sha256 is the source that was measured (the
    recorded ``workload_source`` is the network's package)."""
    if not env:
        return "_no provenance recorded_"
    cpu = env.get("cpu", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    shown = {k: v for k, v in env.get("env", {}).items() if threads is None or k not in THREAD_VARIABLES}
    variables = ", ".join(f"`{k}={v}`" for k, v in shown.items()) or "none set"
    blas = "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('threading_layer')}, {i.get('architecture')}"
                     + ("" if threads else f", {i['num_threads']} threads") + f") `{i['filepath']}`"
                     for i in blas_libraries(env))
    lines = [
        f"- Date: {env.get('date')}; host `{env.get('host')}`; "
        + (f"commit `{env['git_commit']}`; " if env.get("git_commit") else "commit unknown (not run from a clone); ")
        + (f"function `{workload['spec']}`, its file's sha256 `{workload['source_sha256'][:12]}`"
           if "function" in (workload or {}) else f"network source `{(env.get('workload_source') or 'not recorded')[:12]}`"),
        f"- CPU: {cpu.get('model')}, {cpu.get('usable_cores')} usable of {cpu.get('logical_cpus')} logical CPUs; "
        f"SIMD: {' '.join(cpu.get('simd', [])) or 'unknown'}; load average {env.get('load_average')}",
        f"- Python {env.get('python')} on {env.get('platform')}; {versions}",
        f"- BLAS: {blas or 'none found'}",
    ]
    if threads:
        lines.append(f"- Thread counts measured: {', '.join(map(str, threads))}, each in a fresh process with "
                     + ", ".join(f"`{v}`" for v in THREAD_VARIABLES) + " set to it")
    lines.append(f"- Environment variables{' otherwise' if threads else ''}: {variables}")
    return "\n".join(lines)


PEAK_NOTE = ("Peak is a nominal estimate: the clock the kernel reports × double FLOPs per cycle (16 with two "
             "256-bit FMA pipes, 32 with full-width AVX-512); above 100% the core boosts beyond that clock.")


def mixed_banner(mixed: dict[str, list[str]]) -> list[str]:
    """A warning, at the top of a report, that its results were not all measured by the same thing."""
    if not mixed:
        return []
    return ["> **Mixed provenance:** these results come from several " + "; several ".join(
        f"{IDENTITY_WORDS[name]} ({', '.join(values)})" for name, values in mixed.items())
        + ". Each section names its own provenance; do not read differences between sections as effects."]


def ratio_words(before: float, after: float) -> str:
    """``after`` against ``before`` as a reader says it: "1.27x faster", "1.10x slower", and "about as
    fast (1.00x)" where the two agree to two digits (never "1.00x slower")."""
    if f"{after / before:.2f}" == "1.00":
        return "about as fast (1.00x)"
    if after <= before:
        return f"{before / after:.2f}x faster"
    return f"{after / before:.2f}x slower"
