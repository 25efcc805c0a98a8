"""reports/profile.md: the optimisation ladder under cProfile and the phase timers."""

from __future__ import annotations

from ..facts import CHANGE_FACTOR
from ..results.directory import Results
from ..results.seed import seed_figures
from .format import pct, provenance_lines, ratio_words, signed_pct, table

KINDS = ("profile",)


def pages(results: Results, out) -> None:
    out.page("profile.md", render_profile(results["profile"], results.findings["profile"]))


def headline(results: Results) -> list[str]:
    rows = results.findings["profile"]
    first, last = rows[0], rows[-1]
    return [f"- [Profile](profile.md): at the seed's start the sigmoid takes {pct(first['share']['sigmoid'])} "
            f"and the products {pct(first['share']['products'])} of the time (seed post: "
            f"{seed_profile_notes()['0-seed']}); an evaluation at the ladder's last rung (`{last['rung']}`) is "
            + ratio_words(first["seconds_per_evaluation"], last["seconds_per_evaluation"]) + "."]


def change_cell(change: float | None) -> str:
    """A change against the rung above; one profiled run per rung knows no noise, so a change
    smaller than CHANGE_FACTOR's is marked as within it."""
    return signed_pct(change) + (" ~" if change is not None and abs(change) < CHANGE_FACTOR - 1 else "")


def seed_profile_notes() -> dict[str, str]:
    """The seed's published figure for the rungs that have one."""
    seed = seed_figures()
    before, steps = seed["profile_before_numexpr"], seed["optimisations"]
    numexpr, contiguous = steps["numexpr_sigmoid"], steps["contiguous_dot_operands"]
    return {
        "0-seed": f"sigmoid {pct(before['share_of_time_in_sigmoid'])}, dot {pct(before['share_of_time_in_dot'])}",
        "3-numexpr": f"sigmoid {signed_pct(-numexpr['sigmoid_time_reduction'])} "
                     f"({numexpr['sigmoid_seconds_before']} s → {numexpr['sigmoid_seconds_after']} s), "
                     f"overall {signed_pct(-numexpr['overall_time_reduction'])}",
        "4-contiguous": f"dot {signed_pct(-contiguous['dot_time_reduction'])}, "
                        f"overall {signed_pct(-contiguous['overall_time_reduction'])}",
    }


def switches(options: dict) -> str:
    parts = [f"sigmoid={options['sigmoid']}", "σ recomputed" if options["recompute_sigmoid"] else "σ reused",
             "contiguous copies" if options["contiguous"] else "transposed views"]
    if options.get("fused"):
        parts.append("fused numexpr + reused buffers")
    if options.get("data_parallel"):
        parts.append("data parallel: chunks of examples on worker threads")
    return ", ".join(parts)


def render_profile(result: dict, rows: list[dict]) -> str:
    """The ladder's profile, its rows as :func:`blasbench.results.kinds.profile.analyse_profile` found them."""
    seed = seed_profile_notes()
    w = result["workload"]
    table_rows = []
    for row in rows:
        change = row.get("change", {})
        table_rows.append([
            f"`{row['rung']}`", switches(row["options"]), f"{row['seconds']:.1f}",
            f"{row['seconds_per_evaluation']:.3f}", pct(row["share"]["sigmoid"]), pct(row["share"]["products"]),
            pct(row["share"]["elsewhere"]), change_cell(change.get("overall")), change_cell(change.get("sigmoid")),
            change_cell(change.get("products")), seed.get(row["rung"], ""),
        ])
    phase_rows = [[f"`{row['rung']}`", *(f"{row['phases'].get(p, 0.0):.2f}" for p in ("products", "sigmoid", "elementwise")),
                   f"[{row['prof']}]({row['prof']})"] for row in rows]
    first, last = rows[0], rows[-1]
    return "\n\n".join([
        "# Profile: the seed's optimisation ladder",
        f"Each rung trains [{w['layers']}] on {w['train_size']:,} real MNIST examples for {w['iterations']} CG "
        f"iterations (λ = {w['lmbda']}) in its own process on {result['threads']} thread(s), under cProfile. "
        f"From the seed's start to the last rung the time per cost-and-gradient evaluation went from "
        f"{first['seconds_per_evaluation']:.3f} s to {last['seconds_per_evaluation']:.3f} s "
        f"(a ratio of {first['seconds_per_evaluation'] / last['seconds_per_evaluation']:.2f}).",
        "## Where the time goes (cProfile)",
        table(["rung", "switches", "total s", "s / evaluation", "sigmoid", "products", "elsewhere",
               "Δ overall", "Δ sigmoid", "Δ products", "seed post"], table_rows),
        "Shares are cumulative cProfile times of the sigmoid functions and of `product` (the BLAS calls) in "
        "`nn/network.py`, over the profiled total; changes are per evaluation against the rung above. "
        f"Each rung is one profiled run, so its noise is unknown: a change within ±{100 * (CHANGE_FACTOR - 1):.0f}% "
        "(the factor `compare` needs to call a difference) is marked ~ and is not a finding; the sweep in "
        "[scaling.md](scaling.md) measures with repeats. "
        "The seed post's column is its published figure for the same step. cProfile follows the main thread "
        "only, so a data-parallel rung, whose work runs on worker threads, has no shares (–): read its phase timers, "
        "which add each phase's thread-seconds over the workers.",
        "## The network's own phase timers (s)",
        "cProfile cannot see inside the BLAS threads, and it adds its own overhead to every Python call; the "
        "network's phase timers measure what the caller waits for, per phase:",
        table(["rung", "products", "sigmoid", "elementwise", "profile"], phase_rows),
        "Open a profile in SnakeViz: `pip install snakeviz && snakeviz reports/profile/0-seed.prof`.",
        "## Provenance",
        provenance_lines(result.get("environment"), [result["threads"]]),
    ]) + "\n"
