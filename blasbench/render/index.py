"""reports/index.md: links and the headline findings."""

from __future__ import annotations

from pathlib import Path

from ..results.directory import Results
from ..results.identity import blas_of, describe, identity
from ..results.kinds.scaling import of_function
from .format import mixed_banner, thread_variable
from .scaling import provisional_why


def bottom_line(results: Results) -> str | None:
    """One sentence a user can act on, from :meth:`Results.bottom_line`: the fastest rung
    at its recommended thread count, what to set for it, and where the answer to "which BLAS" is."""
    if not (found := results.bottom_line()):
        return None
    parts = []
    if "rung" in found:
        scaling, a, threads = results["scaling"], found["analysis"], found["threads"]
        env = scaling.get("environment") or {}
        blas, variable = blas_of(env), thread_variable(env)
        what = f"{blas['internal_api']} {blas['version']} ({blas['threading_layer']})" if blas else "this BLAS"
        setting = ("nothing to set: by default it uses every usable core" if found["all_cores"] else
                   f"set `{variable}={threads}`, or wrap the work in `threadpoolctl.threadpool_limits({threads})`")
        workload = (f"`{scaling['settings']['workload']['spec']}`" if of_function(scaling["settings"])
                    else f"the post's network, `{found['rung']}`")
        parts.append(f"for {workload} at {threads} thread(s) on {what}: {setting}"
                     + (f" (provisional: {provisional_why(a)})" if a["recommendation"]["provisional"] else "") + ".")
    if "fastest_variant" in found:
        parts.append(f"Of the BLAS setups measured, [`{found['fastest_variant']}`](setups.md) trained fastest.")
    else:
        parts.append("Which BLAS is fastest here: `python3 -m nox -s scaling -- --setup system:pthread pypi blis ...` "
                     "measures them side by side.")
    return "**Bottom line** on " + (measured_machine(results) or "this machine") + ": " + " ".join(parts)


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


def render_index(results: Results, headlines: list[str]) -> str:
    """The index: where the results were measured, every report's headline (``headlines``), the bottom line."""
    return "\n\n".join([
        "# Reports",
        *mixed_banner(results.mixed()),
        measured_on(results) + f"Every report is rendered from the JSON result beside it in `{results.directory}`; "
        f"`{rerender_command(results.directory)}` renders them again without rerunning anything.",
        "\n".join(headlines) or
        "_No results yet: run `python3 -m nox -s build-openblas` and `python3 -m nox -s scaling`._",
        *([line] if (line := bottom_line(results)) else []),
    ]) + "\n"
