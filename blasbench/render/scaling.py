"""reports/scaling.md: the thread-scaling sweep and why scaling stops."""

from __future__ import annotations

import json

from nn.options import ITERATIONS, TRAIN_SIZE

from ..facts import (
    ANSWER_TOLERANCE,
    GLIBC_MMAP_THRESHOLD_MAX,
    HONOURED_CORES,
    LOADED_POINT_CORES,
    NO_LIMIT,
    PEERS,
    THREAD_VARIABLES,
)
from ..results.change import processes_to_decide
from ..results.directory import Results
from ..results.kinds.scaling import PHASES, of_function
from ..results.kinds.variant import limit_effect, serial_without_limit
from ..results.kinds.why import PAYING_SPEEDUP
from ..results.seed import reference_accuracy, seed_figures, seed_recommendation, seed_scaling
from .format import change, fmt, median_iqr, milliseconds, pct, provenance_lines, sentence, table
from .plots import plot_scaling

KINDS = ("scaling", "why")


def pages(results: Results, out) -> None:
    """scaling.md: the sweep (where it measured or refused a point) and the why-scaling-stops experiments."""
    scaling, analysis = results["scaling"], results.findings.get("scaling")
    if not ((scaling and (scaling["points"] or scaling["refused"])) or results["why"]):
        return
    figure = (out.figure(plot_scaling, analysis, "scaling", not of_function(scaling["settings"]))
              if scaling and scaling["points"] else None)
    variants = (results.findings.get("variant") or {}).get("measured")
    out.page("scaling.md", render_scaling(scaling, analysis, figure, results["why"], results.findings.get("why"), variants))


def point_pages(out, where: str, result: dict, analysis: dict) -> None:
    """A release point's sweep: its page and figure under ``where``."""
    figure = out.figure(plot_scaling, analysis, f"{where}scaling", not of_function(result["settings"]))
    out.page(f"{where}scaling.md", render_scaling(result, analysis, figure))


def provisional_why(a: dict) -> str:
    """Why a rung's advice is provisional: a smoke run, a partial sweep, a step the rule cannot decide."""
    why = [*(["a smoke run"] if a["smoke"] else []), *([] if a["complete"] else ["a partial sweep"])]
    if not why and (steps := a["recommendation"]["undecided"]):  # a smoke run's steps are undecided anyway
        step = steps[0]
        why.append(f"{step['from']} → {step['to']} threads is undecided by the rule, p = {step['p']:.2g} with "
                   f"{step['repeats']} repeats a side; --repeats {processes_to_decide(step['repeats'])} can decide it")
    return "; ".join(why)


def headline(results: Results) -> list[str]:
    """Each rung's speedup and advice beside the seed post's, the accuracy, and why scaling stops."""
    lines = []
    if scaling := results["scaling"]:
        seed = seed_scaling()
        for rung, a in results.findings["scaling"].items():
            top = a["rows"][-1]
            seed_then = (f"{seed['speedup'][top['threads']]:.2f}x at {top['threads']} threads, "
                         if top["threads"] in seed["speedup"] else "")
            partial = ("" if a["complete"] else
                       f" (partial: {a['measured_thread_counts']} of {a['asked_thread_counts']} thread counts measured in full)")
            advice = ("provisionally " if a["recommendation"]["provisional"] else "") + \
                f"use {a['recommendation']['threads']} thread(s)"
            lines.append(f"- [Scaling](scaling.md) `{rung}`: {top['speedup']:.2f}x at {top['threads']} threads "
                         f"({pct(top['efficiency'])} efficiency){partial}; {advice}."
                         + ("" if of_function(scaling["settings"]) else
                            f" Seed post: {seed_then}\"{seed_figures()['scaling']['conclusion']}\"."))
        if accuracy := cv_accuracy_line(scaling):
            lines.append(f"- [Accuracy](scaling.md#accuracy): {accuracy}")
    if results["why"] and results["why"]["experiments"]:
        why = why_headline(results["why"], results.findings["why"])
        lines.append(f"- [Why scaling stops](scaling.md#why-scaling-stops): {why}")
    return lines


def render_scaling(result: dict | None, analysis: dict | None, figure: str | None = None, why: dict | None = None,
                   why_found: dict | None = None, variants: list[dict] | None = None) -> str:
    """The sweep (``analysis``: its rungs as analysed), and the why-scaling-stops section (``why_found``:
    its findings) beside the analysed ``variants``; each part names its own provenance."""
    parts = (render_sweep(result, analysis, figure) if result and (result["points"] or result["refused"])
             else ["# Thread scaling"])
    if result and result.get("environment"):
        parts += ["### Provenance of the sweep", provenance_lines(result["environment"], result["settings"]["threads"],
                                                                      result["settings"]["workload"])]
    if why:
        parts += render_why(why, why_found, variants or [])
        parts += ["### Provenance of the experiments", provenance_lines(why.get("environment"), why_threads(why))]
    return "\n\n".join(parts) + "\n"


def why_threads(why: dict) -> list[int] | None:
    """The thread counts the experiments ran at (each row a process of its own)."""
    return sorted({row["threads"] for e in why["experiments"].values() for row in e["rows"] if row.get("threads")}) or None


def cv_accuracy_line(result: dict) -> str | None:
    """The sweep's measured cross-validation accuracy; beside the reference of the post's own code
    only when the workload is the reference's (a shorter run is far from trained: no comparison)."""
    accuracies = [p["cv_accuracy"] for p in result["points"] if p.get("cv_accuracy") is not None]
    if not accuracies:
        return None
    w, reference = result["settings"]["workload"], reference_accuracy()
    spread = (f"{accuracies[0]:.4f} in all {len(accuracies)} runs" if min(accuracies) == max(accuracies)
              else f"{min(accuracies):.4f}–{max(accuracies):.4f} over {len(accuracies)} runs")
    line = f"cross-validation accuracy after {w['iterations']} CG iterations on {w['train_size']:,} examples: {spread}"
    if (w["iterations"], w["train_size"]) != (reference["iterations"], reference["train_size"]):
        return (line + f". Not the reference's workload ({reference['iterations']} iterations on "
                f"{reference['train_size']:,}): a shorter run is not trained as far, so no reference is set beside it.")
    return (line + f". Reference (not published by the post; its own code, {reference['code']}, measured on this data): "
            f"{reference['cv_accuracy']}.")


def render_sweep(result: dict, analysis: dict, figure: str | None) -> list[str]:
    """The sweep: what was measured and how, each rung's (or the function's) section, and for the
    network its accuracy and the seed post's figures beside it."""
    function = of_function(result["settings"])
    parts = ["# Thread scaling", sweep_method(result["settings"]) + "; medians with their interquartile range. The "
             "speedup is the medians'; in brackets the lowest and highest of one repeat's (its run at the fewest threads "
             "against its run at these). A point is marked † when other "
             f"processes kept more than {LOADED_POINT_CORES} of a core busy while it ran."]
    if figure:
        parts.append(f"![scaling]({figure})")
    if not analysis:
        parts.append("**No point was measured:** every point was refused (below).")
    for rung, a in analysis.items():
        parts += rung_section(result, rung, a)
    if function:
        return parts + refused_section(result)
    if analysis and not set(PEERS) & set(result["settings"]["rungs"]):
        parts.append("PyTorch: not swept here (it is swept when asked for: "
                     "`python3 -m nox -s scaling -- --peers torch` installs it and sweeps it beside the rungs).")
    if accuracy := cv_accuracy_line(result):
        parts += ["## Accuracy", sentence(accuracy)]
    seed, figures = seed_scaling(), seed_figures()["scaling"]
    parts += ["## The seed post's measurement",
              f"{figures['machine']}: " + ", ".join(f"{p}: {seed['wall'][p]:.1f} s" for p in seed["threads"]) + ". "
              + figures["note"] + f" Its conclusion: \"{figures['conclusion']}\"."]
    return parts + refused_section(result)


def sweep_method(settings: dict) -> str:
    """What a sweep measured, and how."""
    w = settings["workload"]
    variables = f"{', '.join(f'`{v}`' for v in THREAD_VARIABLES[:-1])} and `{THREAD_VARIABLES[-1]}`"
    if of_function(settings):
        return (f"`{w['spec']}`" + (f" with `{json.dumps(w['args'])}`" if w["args"] else "")
                + f" (source sha256 `{w['source_sha256'][:12]}`); each point a fresh process with {variables} set "
                "together, the file's `setup()` run once, one warm-up call, then "
                + (f"{w['number']} calls" if w["number"] else "calls auto-ranged like `timeit`'s (0.2 s or more)")
                + f" timed together; {settings['repeats']} repeat(s) per point. Times are per call")
    return (f"[{w['layers']}] on {w['train_size']:,} real MNIST examples, {w['iterations']} CG iterations, λ = {w['lmbda']}; "
            f"each point a fresh process with {variables} set together; {settings['repeats']} repeat(s) per point"
            + (" after a warm-up run" if settings["warmup"] else "") + ". Times are the training's wall time "
            "(data loading excluded)")


def rung_section(result: dict, rung: str, a: dict) -> list[str]:
    """One rung's (or peer's, or the function's) table, fit, recommendation and notes."""
    settings, seed = result["settings"], seed_scaling()
    w, function, peer = settings["workload"], of_function(settings), rung in PEERS
    rows = []
    for r in a["rows"]:
        p = r["threads"]
        seconds = ([f"{milliseconds(r['wall']['median'])}", f"{milliseconds(r['wall']['iqr'])}",
                    f"{milliseconds(r['user'])}", f"{milliseconds(r['system'])}"] if function else
                   [f"{r['wall']['median']:.2f}", f"{r['wall']['iqr']:.2f}", f"{r['user']:.1f}", f"{r['system']:.1f}"])
        rows.append([p, f"{r['runs']}" + (f" ({r['under_load']}†)" if r["under_load"] else ""), *seconds,
                     speedup_cell(r), pct(r["efficiency"]), fmt(r["karp_flatt"], 3),
                     *([] if function else [f"{seed['speedup'][p]:.2f}x" if p in seed["speedup"] else "–"])])
    fit, advice = a["amdahl"], a["recommendation"]
    amdahl = (f"Amdahl fit: serial fraction {pct(fit['serial_fraction'])}"
              + (f", so no thread count can exceed {fit['max_speedup']:.1f}x" if fit["max_speedup"] else "")
              + f" (rms residual {fmt(fit['rms_residual'], 2)} s)." if fit["why_none"] is None
              else f"No Amdahl fit: {fit['why_none']}.")
    parts = [f"## `{rung}`" + (" (peer: the same network, data and start in PyTorch, float64, its gradient by "
                               "autograd, trained by the same CG)" if peer else "")]
    if a["smoke"] and function:
        parts.append(f"**Smoke run:** {settings['repeats']} run per point, so no noise is known; its advice is provisional.")
    elif a["smoke"]:
        parts.append(f"**Smoke run:** {w['iterations']} CG iterations on {w['train_size']:,} examples, "
                     f"{settings['repeats']} run(s) per point (the post: {ITERATIONS} iterations on {TRAIN_SIZE:,}): "
                     "it shows that the pipeline works, not how this machine scales; its advice is provisional.")
    if not a["complete"]:
        parts.append(f"**Partial sweep:** {a['measured_thread_counts']} of {a['asked_thread_counts']} thread counts "
                     "measured in full (interrupted or refused points); run the same command again to finish it.")
    unit = "ms per call" if function else "s"
    parts += [
        table(["threads", "runs", f"median wall {unit}", f"IQR {unit}", f"user {unit}", f"system {unit}",
               "speedup (by repeat)", "efficiency", "Karp–Flatt", *([] if function else ["seed speedup"])], rows),
        amdahl + f" **Recommendation{f' (provisional: {provisional_why(a)})' if advice['provisional'] else ''}: "
        f"use {advice['threads']} thread(s)** — {advice['rule']}; the fastest was {a['best_threads']} threads."
        + ("" if function else f" The same rule on the seed post's timings gives {seed_recommendation()} "
           f"(the post: \"{seed_figures()['scaling']['conclusion']}\")."),
        *usage_notes(a, function),
    ]
    if function:
        return parts + answer_section(result, a["answers"]) + profile_section(result)
    if peer:  # a peer's own phases are not timed
        return parts
    return parts + ["Per phase (median seconds, and speedup against the fewest threads):",
                    table(["threads", *PHASES], [[r["threads"], *(f"{r['phases'][ph]:.2f} ({fmt(r['phase_speedup'][ph])}x)"
                                                                  for ph in PHASES)] for r in a["rows"]])]


def refused_section(result: dict) -> list[str]:
    if not result.get("refused"):
        return []
    return ["## Refused points (thread limit did not take effect)",
            table(["rung", "threads", "repeat", "why"],
                  [[r["rung"], r["threads"], r["repeat"], r["why"]] for r in result["refused"]])]


def profile_section(result: dict) -> list[str]:
    """Where a function's time goes, as cProfile saw one more process of it."""
    if not (profile := result.get("profile")):
        return []
    return ["### Where the time goes (cProfile)",
            f"The timed calls once more under cProfile, at {profile['threads']} thread(s), in a process of its own "
            f"(`{profile['prof']}`; `snakeviz {profile['prof']}` draws it). cProfile sees Python calls in the main "
            "thread, not inside the BLAS: a NumPy or SciPy call's time is the caller's wait for it.",
            table(["function", "calls", "cumulative s", "share of the calls' time"],
                  [[f"`{f['function']}`", f"{f['calls']:,}", f"{f['cumulative_seconds']:.3f}", pct(f["share"])]
                   for f in profile["functions"]])]


def answer_table(points: list[dict]) -> str:
    """Each point's answer against the one at the fewest threads (repeat 0)."""
    rows = []
    for point in sorted(points, key=lambda p: (p["threads"], p["repeat"])):
        answer = point["answer"]
        if "unsummarised" in answer:
            rows.append([point["threads"], point["repeat"], f"not summarised: it returned a {answer['unsummarised']}", "–", "–"])
            continue
        parts = "; ".join(f"{part['dtype']} {tuple(part['shape'])} `{part['sha256']}`" for part in answer["parts"]) or "nothing"
        verdict = answer.get("verdict", "not compared (no reference answer)")
        difference = answer.get("max_relative_difference")
        rows.append([point["threads"], point["repeat"], parts, verdict, "–" if difference is None else f"{difference:.1e}"])
    return table(["threads", "repeat", "answer", "against the fewest threads", "max relative difference"], rows)


ANSWER_WORDS = ("Each point's return value (shape, dtype, the first digits of its bytes' sha256) against the one at the "
                f"fewest threads: bit-identical, within {ANSWER_TOLERANCE:g} (the largest difference over the largest "
                "magnitude), or how far it differs. Threaded reductions may add in another order, so threads may change "
                "the last digits. ")


def answer_words(answers: dict) -> str:
    """What the answers say, as :func:`blasbench.results.kinds.scaling.analyse_answers` found it."""
    fewest, at = answers["fewest"], ", ".join(map(str, answers["at"]))
    largest = f"{answers['largest_difference']:.1e}" if answers["largest_difference"] is not None else "an amount not summarised"
    return {
        "unchanged": "Here no point's answer differed beyond that.",
        "threads": f"**Here they changed the answer** (at {at} threads, by up to {largest}), while the repeats at {fewest} "
                   "thread(s) agree: the threads did it.",
        "not deterministic": f"Here the answer is **not deterministic**: it differs between repeats at {fewest} "
                             f"thread(s) (by up to {largest}), so no difference is the threads' doing.",
        "unknown": f"The answer differs at {at} threads (by up to {largest}), but with one repeat per thread count "
                   "nothing tells the threads from a function whose answer changes from run to run: sweep with "
                   "`--repeats 2` or more to tell.",
    }[answers["finding"]]


def answer_section(result: dict, answers: dict) -> list[str]:
    """Does threading change the function's answer? (``answers``: the rung's analysis of them)"""
    return ["### Does threading change the answer?", ANSWER_WORDS + answer_words(answers), answer_table(result["points"])]


def usage_notes(a: dict, function: bool) -> list[str]:
    """Where a rung's time says nothing of the BLAS's threads: threads asked for but not kept busy,
    or more time in the kernel than in user code."""
    unit = (lambda s: f"{milliseconds(s)} ms") if function else (lambda s: f"{s:.1f} s")
    notes = [f"**Threads unused at {r['threads']}:** the process kept {r['cpu_per_wall']:.2f} cores busy, so the work did "
             "not run on the threads asked for: the BLAS chose one thread at these sizes, or the code (or a library it "
             "calls) limits its threads (`threadpool_limits` inside it, say). Its speedup there is not a measure of "
             "threading." for r in a["threads_unused"]]
    notes += [f"**Not the BLAS's time at {r['threads']} thread(s):** the system time ({unit(r['system'])}) exceeds the "
              f"user time ({unit(r['user'])}): the time goes to the kernel (printing, I/O, page faults), so its speedup "
              "is not a thread effect of the BLAS." for r in a["system_bound"]]
    return notes


RUN_HEADER = ["condition", "rung", "threads", "wall s (median ± IQR/2)", "user s", "system s", "CPU/wall",
              "minor page faults", "voluntary context switches"]


def speedup_cell(row: dict) -> str:
    spread = row.get("speedup_range")
    return f"{row['speedup']:.2f}x" + (f" ({spread[0]:.2f}–{spread[1]:.2f})" if spread else "")


def run_rows(rows: list[dict]) -> list[list]:
    return [[r["condition"], r["rung"], r["threads"], median_iqr(r["wall"]), f"{r['user']:.1f}", f"{r['system']:.1f}",
             f"{r['cpu_per_wall']:.2f}", f"{r['minor_page_faults']:,.0f}", f"{r['voluntary_switches']:,.0f}"]
            for r in rows]


LIMITS_HEADER = ["asking for one thread by", "threads threadpoolctl reports", "cores busy in DGEMM (CPU/wall)",
                 "DGEMM GFLOP/s", "honoured"]


def limits_rows(limits: list[dict]) -> list[list]:
    words = {"honoured": "yes", "ignored": "**no**", None: "–",
             "compute only": "the compute, yes: the DGEMM ran at the one-thread rate, while idle threads kept the "
                             "other cores busy spinning"}
    return [[r["condition"], fmt(r["reported_threads"]), f"{r['dgemm']['cpu_per_wall']:.2f}",
             f"{r['dgemm']['gflops']:.1f}", words[limit_effect(r, limits)]] for r in limits]


def timeout_findings(rows: list[dict]) -> list[str]:
    """What each way of letting idle threads sleep changed, against the defaults at all threads."""
    default, *sleepers = rows[1:]
    cpu_default = default["user"] + default["system"]
    return [f"`{row['condition']}` changed the CPU time by {change(row['user'] + row['system'], cpu_default)} and the wall "
            f"time by {change(row['wall']['median'], default['wall']['median'])} (the defaults' own spread: "
            f"±{pct(default['wall']['iqr'] / 2 / default['wall']['median'])})." for row in sleepers]


def sizes_finding(rows: list[dict], sizes: dict) -> str:
    """In how many problem sizes threads pay, and where they do not (``sizes``: the experiment's findings)."""
    not_paying, losing = sizes["not_paying"], sizes["losing"]
    finding = (f"Threads pay (at least {PAYING_SPEEDUP}x) in {len(rows) - len(not_paying)} of {len(rows)} cells"
               + ("; not in " + ", ".join(f"{r['hidden']} × {r['examples']:,} ({r['speedup']:.2f}x)" for r in not_paying)
                  if not_paying else "") + ".")
    if losing:
        finding += f" In {len(losing)} cell(s) {rows[0]['threads']} threads were slower than one."
    return finding


def malloc_findings(rows: list[dict]) -> list[str]:
    """Each allocator setting at the most threads, against glibc's defaults."""
    by = {(r["condition"], r["threads"]): r for r in rows}
    top = max(r["threads"] for r in rows)
    base = by[rows[0]["condition"], top]
    lines = []
    for condition in dict.fromkeys(r["condition"] for r in rows):
        row, one = by[condition, top], by.get((condition, 1))
        scaling = f", {one['wall']['median'] / row['wall']['median']:.2f}x from 1 to {top} threads" if one and top > 1 else ""
        lines.append(f"{condition}: {row['seconds_per_evaluation']:.3f} s per evaluation at {top} threads "
                     f"({change(row['seconds_per_evaluation'], base['seconds_per_evaluation'])} against the "
                     f"defaults), {row['minor_page_faults']:,.0f} page faults, {row['system']:.1f} s system time{scaling}.")
    return lines


def limits_finding(rows: list[dict]) -> str:
    """Which ways of asking for one thread this BLAS honours."""
    effects: dict[str, list[str]] = {}
    for row in rows:
        if (effect := limit_effect(row, rows)) is not None:
            effects.setdefault(effect, []).append(f"`{row['condition']}`")
    if not effects:
        return "the BLAS ran one thread without a limit: nothing to honour."
    return "; ".join(f"{effect}: {', '.join(conditions)}" for effect, conditions in effects.items()) + "."


def why_headline(why: dict, findings: dict) -> str:
    """One finding per experiment measured, for the index (``findings``: the experiments' analysis)."""
    experiments, found = why["experiments"], []
    if timeout := experiments.get("timeout"):
        found.append("idle threads: " + " ".join(timeout_findings(timeout["rows"])))
    if sizes := experiments.get("sizes"):
        finding = sizes_finding(sizes["rows"], findings["sizes"])
        found.append(f"problem size: {finding[0].lower()}{finding[1:]}")
    if malloc := experiments.get("malloc"):
        top = max(r["threads"] for r in malloc["rows"])
        at_top = [r for r in malloc["rows"] if r["threads"] == top]  # the defaults first
        fastest = min(at_top, key=lambda r: r["seconds_per_evaluation"])
        found.append(f"temporaries: fastest at {top} threads with {fastest['condition']} ("
                     f"{change(fastest['seconds_per_evaluation'], at_top[0]['seconds_per_evaluation'])} against the defaults).")
    if limits := experiments.get("limits"):
        found.append("one-thread limits: " + limits_finding(limits["rows"]))
    return " ".join(sentence(text) for text in found)


def render_why(why: dict, found: dict, variants: list[dict]) -> list[str]:
    """The "why scaling stops" section: one measured table per experiment, and what it shows;
    ``variants`` (analysed) add every variant's runtime limits."""
    experiments = why["experiments"]
    parts = ["## Why scaling stops",
             "Each row is measured on this machine, in fresh `python -m nn train` or probe processes with the "
             "variables shown set before start. CPU/wall is the number of cores kept busy."]

    def runs(experiment: dict) -> str:
        w, repeats = experiment["settings"]["workload"], experiment["settings"]["repeats"]
        return f"{w['iterations']} CG iterations on {w['train_size']:,} examples, {repeats} run(s) per row."

    if timeout := experiments.get("timeout"):
        default = timeout["rows"][1]
        parts += ["### Idle BLAS threads keep spinning",
                  "Between two BLAS calls (while the single-threaded NumPy sigmoid runs) OpenBLAS's idle threads "
                  "spin before they sleep, and the spinning is paid in user and system time (`sched_yield`). "
                  + runs(timeout),
                  table(RUN_HEADER, run_rows(timeout["rows"])),
                  f"With every thread on, the seed's code kept {default['cpu_per_wall']:.2f} cores busy "
                  f"({default['user']:.1f} s user, {default['system']:.1f} s system) for {default['wall']['median']:.1f} s. "
                  + " ".join(timeout_findings(timeout["rows"]))]
    if sizes := experiments.get("sizes"):
        hidden = sorted({r["hidden"] for r in sizes["rows"]})
        examples = sorted({r["examples"] for r in sizes["rows"]})
        cell = {(r["hidden"], r["examples"]): r for r in sizes["rows"]}
        threads = sizes["rows"][0]["threads"]
        grid = [[f"{h}", *(f"{cell[h, m]['speedup']:.2f}x ({milliseconds(cell[h, m]['one_thread']['median'])} → "
                           f"{milliseconds(cell[h, m]['all_threads']['median'])} ms)" for m in examples)] for h in hidden]
        parts += ["### Small problems: where threads start to pay",
                  f"One cost-and-gradient (`{sizes['rows'][0]['rung']}`), 1 → {threads} threads, over the hidden-layer "
                  "size (rows) and the number of examples (columns): speedup (median ms at 1 → all threads).",
                  table(["hidden \\ examples", *(f"{m:,}" for m in examples)], grid),
                  sizes_finding(sizes["rows"], found["sizes"])]
    if malloc := experiments.get("malloc"):
        rows = malloc["rows"]
        w = malloc["settings"]["workload"]
        megabytes = int(w["layers"].split(",")[1]) * w["train_size"] * 8 / 2**20
        parts += ["### Large temporaries mapped and unmapped",
                  f"The seed's code allocates its hidden × examples temporaries ({megabytes:.0f} MiB each in this "
                  "workload) afresh in every evaluation. glibc serves blocks above its mmap threshold with `mmap` and "
                  "unmaps them on "
                  "`free`, so each evaluation page-faults them in again: system time that does not shrink with "
                  f"threads. glibc will not raise the threshold above {GLIBC_MMAP_THRESHOLD_MAX // 2**20} MiB; "
                  "turning mmap off (`MALLOC_MMAP_MAX_=0`) keeps them in the heap. " + runs(malloc),
                  table(RUN_HEADER, run_rows(rows)), "\n".join(f"- {line}" for line in malloc_findings(rows))]
    if limits := experiments.get("limits"):
        parts += ["### Runtime thread limits",
                  f"This environment's BLAS ({limits['threading_layer']}), one fresh process per row, DGEMM "
                  f"{limits['settings']['dgemm_size']}²:", table(LIMITS_HEADER, limits_rows(limits["rows"]))]
        if variants:
            parts += ["Every setup of [setups.md](setups.md) (honoured: the DGEMM kept at most "
                      f"{HONOURED_CORES} cores busy):",
                      limits_matrix(variants)]
            for variant in variants:
                if variant["ignored"]:
                    parts.append(f"`{variant['name']}` ({variant['blas']['threading_layer']}) **ignores** "
                                 + ", ".join(f"`{s}`" for s in variant["ignored"]) + ".")
    return parts


def limits_matrix(variants: list[dict]) -> str:
    conditions = [row["condition"] for row in variants[0]["limits"]]
    rows = []
    for condition in conditions:
        cells = []
        for variant in variants:
            row = next(r for r in variant["limits"] if r["condition"] == condition)
            serial = condition != NO_LIMIT and serial_without_limit(variant["limits"])
            mark = " (one core without a limit too)" if serial else {
                "ignored": " **ignored**", "compute only": " (compute limited; idle threads spun)"}.get(
                limit_effect(row, variant["limits"]), "")
            cells.append(f"{fmt(row['reported_threads'])} / {row['dgemm']['cpu_per_wall']:.2f}{mark}")
        rows.append([condition, *cells])
    return table(["threads reported / cores busy", *(v["name"] for v in variants)], rows)
