"""Markdown reports rendered from the JSON results beside them; rendering never reruns anything."""

from __future__ import annotations

from pathlib import Path

from .analysis import PHASES, analyse_profile, analyse_scaling, analyse_variants, seed_figures, seed_scaling
from .store import atomic_write_text, read_json
from .why import EXPERIMENTS, GLIBC_MMAP_THRESHOLD_MAX


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def provenance_lines(env: dict | None) -> str:
    if not env:
        return "_no provenance recorded_"
    cpu = env.get("cpu", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    variables = ", ".join(f"`{k}={v}`" for k, v in env.get("env", {}).items()) or "none set"
    blas = "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('threading_layer')}, "
                     f"{i.get('architecture')}, {i['num_threads']} threads) `{i['filepath']}`"
                     for i in env.get("threadpool_info", []) if i.get("user_api") == "blas")
    return "\n".join([
        f"- Date: {env.get('date')}; host `{env.get('host')}`; commit `{env.get('git_commit')}`",
        f"- CPU: {cpu.get('model')}, {cpu.get('usable_cores')} usable of {cpu.get('logical_cpus')} logical CPUs; "
        f"SIMD: {' '.join(cpu.get('simd', [])) or 'unknown'}; load average {env.get('load_average')}",
        f"- Python {env.get('python')} on {env.get('platform')}; {versions}",
        f"- BLAS: {blas or 'none found'}",
        f"- Environment variables: {variables}",
    ])


PEAK_NOTE = ("Peak is a nominal estimate: the clock the kernel reports × double FLOPs per cycle (16 with two "
             "256-bit FMA pipes, 32 with full-width AVX-512); above 100% the core boosts beyond that clock.")


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_build(result: dict) -> str:
    ob = result["openblas"]
    verification = result["verification"]
    wheel_rows = []
    for w in result["wheels"]:
        m = w["manifest"]
        ccache = m.get("ccache") if isinstance(m.get("ccache"), dict) else {}
        warmth = f", ccache {ccache['hits']} hits / {ccache['misses']} misses" if "hits" in ccache else ""
        wheel_rows.append([w["package"], w["version"], f"`{Path(w['wheel']).name}`", f"`{w['key'][:16]}`",
                           f"{m['build_seconds']:.0f} s wall, {m['build_cpu_seconds']:.0f} s CPU{warmth} ({m['built_at']})",
                           ("reused from the wheelhouse" if w["cached"] else "compiled") + f", {w['seconds_this_run']:.1f} s"])
    inputs = result["wheels"][0]["manifest"]["inputs"]
    check_rows = [["PASS" if c["ok"] else "**FAIL**", c["name"], c["detail"] + (f" — {c['hint']}" if c["hint"] else "")]
                  for c in verification["checks"]]
    parts = [
        "# Build: NumPy and SciPy from source against OpenBLAS",
        f"Verification **{'passed' if verification['ok'] else 'FAILED'}**. "
        f"This run took {result['seconds_this_run']:.1f} s.",
        "## What was built",
        table(["package", "version", "wheel", "key", "cold build", "this run"], wheel_rows),
        f"Wheels live in the wheelhouse outside the clone (`{Path(result['wheels'][0]['wheel']).parent.parent}`), "
        "one directory per key; the key hashes every input below.",
        "## From what",
        table(["input", "value"], [
            ["provider", f"{ob['provider']} ({ob['variant']})"],
            ["OpenBLAS", f"{ob['version']}, threading `{ob['threading_layer']}`, core `{ob['architecture']}`, "
                         f"{'ILP64' if ob['ilp64'] else 'LP64'}"],
            ["library", f"`{ob['library']}`"],
            ["OpenBLAS config", f"`{ob['config']}`"],
            *[[f"meson options ({package})", " ".join(f"`{a}`" for a in args)]
              for package, args in result["meson_args"].items()],
            ["compilers", "; ".join(f"{k}: {v}" for k, v in inputs["toolchain"].items())],
            ["build tools", ", ".join(inputs["build_tools"])],
            ["Python / platform", f"{inputs['python']}, {inputs['platform']}, {inputs['libc']}"],
            ["extra flags", ", ".join(f"{k}={v}" for k, v in inputs["flags"].items()) or "none"],
        ]),
        "pkg-config file given to meson:",
        "```\n" + ob["pc_text"].rstrip() + "\n```",
    ]
    config = (result.get("environment") or {}).get("numpy_config")
    if config:
        parts += ["## `numpy.show_config()` essentials", table(["", "name", "version", "details"], [
            ["BLAS", (config.get("blas") or {}).get("name"), (config.get("blas") or {}).get("version"),
             (config.get("blas") or {}).get("openblas configuration", "")],
            ["LAPACK", (config.get("lapack") or {}).get("name"), (config.get("lapack") or {}).get("version"), ""],
            *[[lang, c.get("name"), c.get("version"), ""] for lang, c in config.get("compilers", {}).items()],
        ])]
    parts += ["## Verification (fresh process of the built environment)", table(["", "check", "detail"], check_rows)]
    probe = verification.get("probe")
    if probe:
        peak = probe.get("peak_gflops_per_core_estimate")
        parts += [table(["DGEMM probe", "threads", "GFLOP/s", "CPU/wall", "share of peak"], [
            [f"{probe['size']}² float64, best of {probe['repeats']}", 1, fmt(probe["one_thread"]["gflops"], 1),
             fmt(probe["one_thread"]["cpu_per_wall"]), fmt(probe.get("share_of_peak_one_thread"))],
            ["", verification["blas"]["num_threads"], fmt(probe["all_threads"]["gflops"], 1),
             fmt(probe["all_threads"]["cpu_per_wall"]), fmt(probe.get("share_of_peak_all_threads"))],
        ]), f"Speedup {probe['speedup']:.2f}x. {PEAK_NOTE} Here {fmt(peak, 1)} GFLOP/s per core."]
    parts += ["## Provenance", provenance_lines(result.get("environment"))]
    return "\n\n".join(parts) + "\n"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def signed_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.0f}%"


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
    return ", ".join(parts)


def render_profile(result: dict) -> str:
    rows = analyse_profile(result)
    seed = seed_profile_notes()
    w = result["workload"]
    table_rows = []
    for row in rows:
        change = row.get("change", {})
        table_rows.append([
            f"`{row['rung']}`", switches(row["options"]), f"{row['seconds']:.1f}",
            f"{row['seconds_per_evaluation']:.3f}", pct(row["share"]["sigmoid"]), pct(row["share"]["products"]),
            pct(row["share"]["elsewhere"]), signed_pct(change.get("overall")), signed_pct(change.get("sigmoid")),
            signed_pct(change.get("products")), seed.get(row["rung"], ""),
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
        "The seed post's column is its published figure for the same step.",
        "## The network's own phase timers (s)",
        "cProfile cannot see inside the BLAS threads, and it adds its own overhead to every Python call; the "
        "network's phase timers measure what the caller waits for, per phase:",
        table(["rung", "products", "sigmoid", "elementwise", "profile"], phase_rows),
        "Open a profile in SnakeViz: `pip install snakeviz && snakeviz reports/profile/0-seed.prof`.",
        "## Provenance",
        provenance_lines(result.get("environment")),
    ]) + "\n"


def render_scaling(result: dict | None, figure: str | None = None, why: dict | None = None,
                   variants: list[dict] | None = None) -> str:
    """The sweep, and the why-scaling-stops section beside the analysed ``variants``."""
    parts = render_sweep(result, figure) if result and result["points"] else ["# Thread scaling"]
    if why:
        parts += render_why(why, variants or [])
    if result and result.get("environment"):
        parts += ["## Provenance", provenance_lines(result["environment"])]
    elif why:
        parts += ["## Provenance", provenance_lines(why.get("environment"))]
    return "\n\n".join(parts) + "\n"


def render_sweep(result: dict, figure: str | None) -> list[str]:
    analysis = analyse_scaling(result)
    settings = result["settings"]
    w = settings["workload"]
    seed = seed_scaling()
    parts = [
        "# Thread scaling",
        f"[{w['layers']}] on {w['train_size']:,} real MNIST examples, {w['iterations']} CG iterations, λ = {w['lmbda']}; "
        f"each point a fresh process with `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` and "
        f"`NUMEXPR_NUM_THREADS` set together; {settings['repeats']} repeat(s) per point"
        + (" after a warm-up run" if settings["warmup"] else "") + ". Times are the training's wall time "
        "(data loading excluded); medians with their interquartile range.",
    ]
    if figure:
        parts.append(f"![scaling]({figure})")
    for variant, a in analysis.items():
        rows = []
        for r in a["rows"]:
            p = r["threads"]
            rows.append([p, r["runs"], f"{r['wall']['median']:.2f}", f"{r['wall']['iqr']:.2f}", f"{r['user']:.1f}",
                         f"{r['system']:.1f}", f"{r['speedup']:.2f}x", pct(r["efficiency"]), fmt(r["karp_flatt"], 3),
                         f"{seed['speedup'][p]:.2f}x" if p in seed["speedup"] else "–"])
        fit = a["amdahl"]
        parts += [
            f"## `{variant}`",
            table(["threads", "runs", "median wall s", "IQR s", "user s", "system s", "speedup", "efficiency",
                   "Karp–Flatt", "seed speedup"], rows),
            f"Amdahl fit: serial fraction {pct(fit['serial_fraction'])}"
            + (f", so no thread count can exceed {fit['max_speedup']:.1f}x" if fit["max_speedup"] else "")
            + f" (rms residual {fmt(fit['rms_residual'], 2)} s). **Recommendation: use {a['recommended_threads']} "
            f"thread(s)** — the fewest within 10% of the best time ({a['best_threads']} threads).",
            "Per phase (median seconds, and speedup against the fewest threads):",
            table(["threads", *PHASES], [[r["threads"], *(f"{r['phases'][ph]:.2f} ({fmt(r['phase_speedup'][ph])}x)"
                                                          for ph in PHASES)] for r in a["rows"]]),
        ]
    parts += [
        "## The seed post's measurement",
        f"{seed_figures()['scaling']['machine']}: " + ", ".join(
            f"{p}: {seed['wall'][p]:.1f} s" for p in seed["threads"]) + ". " + seed_figures()["scaling"]["note"]
        + f" Its conclusion: \"{seed_figures()['scaling']['conclusion']}\".",
    ]
    if result.get("refused"):
        parts += ["## Refused points (thread limit did not take effect)",
                  table(["variant", "threads", "repeat", "why"],
                        [[r["variant"], r["threads"], r["repeat"], r["why"]] for r in result["refused"]])]
    return parts


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}" if seconds >= 0.01 else f"{seconds * 1e3:.2f}"


def median_iqr(summary: dict, digits: int = 2) -> str:
    return f"{summary['median']:.{digits}f} ± {summary['iqr'] / 2:.{digits}f}"


def change(new: float, old: float) -> str:
    return signed_pct(new / old - 1) if old else "–"


def run_rows(rows: list[dict]) -> list[list]:
    return [[r["setup"], r["rung"], r["threads"], median_iqr(r["wall"]), f"{r['user']:.1f}", f"{r['system']:.1f}",
             f"{r['cpu_per_wall']:.2f}", f"{r['minor_page_faults']:,.0f}", f"{r['voluntary_switches']:,.0f}"]
            for r in rows]


RUN_HEADER = ["setup", "rung", "threads", "wall s (median ± IQR/2)", "user s", "system s", "CPU/wall",
              "minor page faults", "voluntary context switches"]


def limits_rows(limits: list[dict]) -> list[list]:
    honoured = {True: "yes", False: "**no**", None: "–"}
    return [[r["setup"], fmt(r["reported_threads"]), f"{r['dgemm']['cpu_per_wall']:.2f}",
             f"{r['dgemm']['gflops']:.1f}", honoured[r["honoured"]]] for r in limits]


LIMITS_HEADER = ["asking for one thread by", "threads threadpoolctl reports", "cores busy in DGEMM (CPU/wall)",
                 "DGEMM GFLOP/s", "honoured"]


def render_why(why: dict, variants: list[dict]) -> list[str]:
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
        rows = timeout["rows"]
        default, *sleepers = rows[1:]
        lines = [f"With every thread on, the seed's code kept {default['cpu_per_wall']:.2f} cores busy "
                 f"({default['user']:.1f} s user, {default['system']:.1f} s system) for {default['wall']['median']:.1f} s."]
        for row in sleepers:
            cpu_default, cpu_row = default["user"] + default["system"], row["user"] + row["system"]
            lines.append(f"`{row['setup']}` changed the CPU time by {change(cpu_row, cpu_default)} and the wall time by "
                         f"{change(row['wall']['median'], default['wall']['median'])} (the defaults' own spread: "
                         f"±{pct(default['wall']['iqr'] / 2 / default['wall']['median'])}).")
        parts += ["### Idle BLAS threads keep spinning",
                  "Between two BLAS calls (while the single-threaded NumPy sigmoid runs) OpenBLAS's idle threads "
                  "spin before they sleep, and the spinning is paid in user and system time (`sched_yield`). "
                  + runs(timeout),
                  table(RUN_HEADER, run_rows(rows)), " ".join(lines)]
    if sizes := experiments.get("sizes"):
        hidden = sorted({r["hidden"] for r in sizes["rows"]})
        examples = sorted({r["examples"] for r in sizes["rows"]})
        cell = {(r["hidden"], r["examples"]): r for r in sizes["rows"]}
        threads = sizes["rows"][0]["threads"]
        grid = [[f"{h}", *(f"{cell[h, m]['speedup']:.2f}x ({milliseconds(cell[h, m]['one_thread']['median'])} → "
                           f"{milliseconds(cell[h, m]['all_threads']['median'])} ms)" for m in examples)] for h in hidden]
        not_paying = [r for r in sizes["rows"] if r["speedup"] < 1.2]
        losing = [r for r in not_paying if r["speedup"] < 1.0]
        finding = (f"Threads pay (at least 1.2x) in {len(sizes['rows']) - len(not_paying)} of {len(sizes['rows'])} cells"
                   + ("; not in " + ", ".join(f"{r['hidden']} × {r['examples']:,} ({r['speedup']:.2f}x)" for r in not_paying)
                      if not_paying else "") + ".")
        if losing:
            finding += f" In {len(losing)} cell(s) {threads} threads were slower than one."
        parts += ["### Small problems: where threads start to pay",
                  f"One cost-and-gradient (`{sizes['rows'][0]['rung']}`), 1 → {threads} threads, over the hidden-layer "
                  "size (rows) and the number of examples (columns): speedup (median ms at 1 → all threads).",
                  table(["hidden \\ examples", *(f"{m:,}" for m in examples)], grid), finding]
    if malloc := experiments.get("malloc"):
        rows = malloc["rows"]
        by = {(r["setup"], r["threads"]): r for r in rows}
        top = max(r["threads"] for r in rows)
        base = by[rows[0]["setup"], top]
        lines = []
        for setup in dict.fromkeys(r["setup"] for r in rows):
            row = by[setup, top]
            one = by.get((setup, 1))
            scaling = f", {one['wall']['median'] / row['wall']['median']:.2f}x from 1 to {top} threads" if one and top > 1 else ""
            lines.append(f"- {setup}: {row['seconds_per_evaluation']:.3f} s per evaluation at {top} threads "
                         f"({change(row['seconds_per_evaluation'], base['seconds_per_evaluation'])} against the "
                         f"defaults), {row['minor_page_faults']:,.0f} page faults, {row['system']:.1f} s system time{scaling}.")
        w = malloc["settings"]["workload"]
        megabytes = int(w["layers"].split(",")[1]) * w["train_size"] * 8 / 2**20
        parts += ["### Large temporaries mapped and unmapped",
                  f"The seed's code allocates its hidden × examples temporaries ({megabytes:.0f} MiB each here) afresh "
                  "in every evaluation. glibc serves blocks above its mmap threshold with `mmap` and unmaps them on "
                  "`free`, so each evaluation page-faults them in again: system time that does not shrink with "
                  f"threads. glibc will not raise the threshold above {GLIBC_MMAP_THRESHOLD_MAX // 2**20} MiB; "
                  "turning mmap off (`MALLOC_MMAP_MAX_=0`) keeps them in the heap. " + runs(malloc),
                  table(RUN_HEADER, run_rows(rows)), "\n".join(lines)]
    if limits := experiments.get("limits"):
        parts += ["### Runtime thread limits",
                  f"This environment's BLAS ({limits['threading_layer']}), one fresh process per row, DGEMM "
                  f"{limits['settings']['dgemm_size']}²:", table(LIMITS_HEADER, limits_rows(limits["rows"]))]
        if variants:
            parts += ["Every variant of [variants.md](variants.md) (honoured: the DGEMM kept at most 1.3 cores busy):",
                      limits_matrix(variants)]
            for variant in variants:
                if variant["ignored"]:
                    parts.append(f"`{variant['name']}` ({variant['blas']['threading_layer']}) **ignores** "
                                 + ", ".join(f"`{s}`" for s in variant["ignored"]) + ".")
    return parts


def limits_matrix(variants: list[dict]) -> str:
    setups = [row["setup"] for row in variants[0]["limits"]]
    rows = []
    for setup in setups:
        cells = []
        for variant in variants:
            row = next(r for r in variant["limits"] if r["setup"] == setup)
            mark = {True: "", False: " **ignored**", None: ""}[row["honoured"]]
            cells.append(f"{fmt(row['reported_threads'])} / {row['dgemm']['cpu_per_wall']:.2f}{mark}")
        rows.append([setup, *cells])
    return table(["threads reported / cores busy", *(v["name"] for v in variants)], rows)


def render_variants(measured: list[dict], failed: list[dict], figure: str | None = None) -> str:
    """The variants as :func:`analyse_variants` returns them, measured and failed."""
    parts = ["# BLAS variants side by side"]
    if measured:
        settings = measured[0]["settings"]
        w = settings["workload"]
        threads = ", ".join(map(str, settings["threads"]))
        parts.append(
            f"The same training (`{settings['variants'][0]}`, [{w['layers']}], {w['iterations']} CG iterations on "
            f"{w['train_size']:,} MNIST examples) in each variant's own environment, at {threads} thread(s), "
            f"{settings['repeats']} run(s) per point, each a fresh process with every thread variable set. DGEMM rates "
            "come from the runtime-limits probe (all thread variables = 1, and no limit). " + PEAK_NOTE
            + f" Here {fmt(measured[0]['blas']['peak_gflops_per_core_estimate'], 1)} GFLOP/s per core.")
        if figure:
            parts.append(f"![variants]({figure})")
        rows = []
        for v in measured:
            lib = v["blas"]
            blas = (f"{lib['threading_layer']}" + (f", {lib['reported_threads']} thread(s)" if lib["reported_threads"] else ""))
            core = (v["environment"] or {}).get("threadpool_info") or [{}]
            info = next((i for i in core if i.get("user_api") == "blas"), {})
            version = info.get("version") or (v["library"] or {}).get("version") or "–"
            rows.append([f"**{v['name']}**", v["description"], f"{version}, {blas}, core {info.get('architecture') or '–'}",
                         f"{v['dgemm_one']['gflops']:.1f} ({pct(v['share_of_peak_one'])})",
                         f"{v['dgemm_all']['gflops']:.1f} ({pct(v['share_of_peak_all'])})",
                         median_iqr(v["one"]["wall"]), median_iqr(v["all"]["wall"]),
                         f"{v['training_speedup']:.2f}x", v["verdict"]])
        top = measured[0]["all"]["threads"]
        parts += [table(["variant", "what", "BLAS as reported (version, layer, core)", "DGEMM 1 thread GFLOP/s (of peak)",
                         f"DGEMM {top} threads GFLOP/s (of peak)", "training s, 1 thread", f"training s, {top} threads",
                         "speedup", "verdict"], rows),
                  "## Runtime thread limits",
                  "Each way of asking for one thread, in a fresh process per cell: the threads threadpoolctl reports "
                  "and the cores the DGEMM kept busy (CPU/wall). A limit is honoured when at most 1.3 cores were busy.",
                  limits_matrix(measured),
                  "## Per thread count",
                  table(["variant", "threads", "training s (median ± IQR/2)", "speedup", "s per CG iteration"],
                        [[v["name"], r["threads"], median_iqr(r["wall"]), f"{r['speedup']:.2f}x",
                          f"{r['seconds_per_iteration']:.3f}"] for v in measured for r in v["rows"]])]
    if failed:
        parts += ["## Not measured", "\n".join(f"- {r['variant']['name']}: {r.get('error', 'no sweep finished yet')}"
                                                 for r in failed)]
    if measured:
        parts += ["## Provenance", *(f"### {v['name']}\n\n" + provenance_lines(v["environment"]) for v in measured)]
    return "\n\n".join(parts) + "\n"


def headline(results: Path, variants: list[dict]) -> list[str]:
    """A few sentences on what each result found."""
    lines = []
    if (results / "build.json").exists():
        build = read_json(results / "build.json")
        probe = build["verification"].get("probe", {})
        lines.append(f"- [Build](build.md): NumPy and SciPy compiled against {build['openblas']['provider']} OpenBLAS "
                     f"{build['openblas']['version']} ({build['openblas']['threading_layer']}); verification "
                     f"**{'passed' if build['verification']['ok'] else 'FAILED'}**"
                     + (f", DGEMM {probe['speedup']:.2f}x faster on all threads than on one." if probe else "."))
    if (results / "profile.json").exists():
        rows = analyse_profile(read_json(results / "profile.json"))
        first, last = rows[0], rows[-1]
        ratio = first["seconds_per_evaluation"] / last["seconds_per_evaluation"]
        lines.append(f"- [Profile](profile.md): at the seed's start the sigmoid takes {pct(first['share']['sigmoid'])} "
                     f"and the products {pct(first['share']['products'])} of the time (seed post: "
                     f"{seed_profile_notes()['0-seed']}); "
                     f"an evaluation at the ladder's last rung (`{last['rung']}`) takes 1/{ratio:.2f} of the time.")
    if (results / "scaling.json").exists():
        seed = seed_scaling()
        for variant, a in analyse_scaling(read_json(results / "scaling.json")).items():
            top = a["rows"][-1]
            seed_then = (f"{seed['speedup'][top['threads']]:.2f}x at {top['threads']} threads, "
                         if top["threads"] in seed["speedup"] else "")
            lines.append(f"- [Scaling](scaling.md) `{variant}`: {top['speedup']:.2f}x at {top['threads']} threads "
                         f"({pct(top['efficiency'])} efficiency); use {a['recommended_threads']} thread(s). "
                         f"Seed post: {seed_then}\"{seed_figures()['scaling']['conclusion']}\".")
    if (results / "why.json").exists():
        done = ", ".join(e for e in EXPERIMENTS if e in read_json(results / "why.json")["experiments"])
        lines.append(f"- [Why scaling stops](scaling.md#why-scaling-stops): measured {done}.")
    for v in variants:
        lines.append(f"- [Variant](variants.md) `{v['name']}`: {v['verdict']}.")
    return lines


def render_index(results: Path, variants: list[dict]) -> str:
    return "\n\n".join([
        "# Reports",
        "Every report is rendered from the JSON result beside it; `nox -s report` renders them again without "
        "rerunning anything.",
        "\n".join(headline(results, variants)) or "_No results yet: run `nox -s build-openblas` and `nox -s scaling`._",
    ]) + "\n"


def render_all(results: Path) -> list[Path]:
    """Render every report whose JSON result is in ``results``, then the index; returns the files written."""
    from .plots import plot_scaling, plot_variants
    from .variants import load_variants

    written = []
    for name, render in (("build", render_build), ("profile", render_profile)):
        if (results / f"{name}.json").exists():
            atomic_write_text(results / f"{name}.md", render(read_json(results / f"{name}.json")))
            written.append(results / f"{name}.md")
    variants = load_variants(results)
    measured, failed = analyse_variants(variants)
    scaling = read_json(results / "scaling.json") if (results / "scaling.json").exists() else None
    why = read_json(results / "why.json") if (results / "why.json").exists() else None
    if (scaling and scaling["points"]) or why:
        figure = None
        if scaling and scaling["points"]:
            written += plot_scaling(analyse_scaling(scaling), results / "scaling")
            figure = "scaling.svg"
        atomic_write_text(results / "scaling.md", render_scaling(scaling, figure, why, measured))
        written.append(results / "scaling.md")
    if variants:
        figure = None
        if measured:
            written += plot_variants(measured, results / "variants")
            figure = "variants.svg"
        atomic_write_text(results / "variants.md", render_variants(measured, failed, figure))
        written.append(results / "variants.md")
    index = results / "index.md"
    atomic_write_text(index, render_index(results, measured))
    return written + [index]


TABLE_TITLES = {"scaling": "Thread scaling (seconds per CG iteration)", "variants": "BLAS variants (seconds per CG iteration)",
                "bench": "Benchmark (seconds per cost-and-gradient)"}


def render_compare(comparison: dict) -> str:
    """Runs side by side: who they are (from provenance), then every shared measure."""
    runs = comparison["runs"]
    fields = ["cpu", "blas", "numpy", "python", "commit", "host", "date"]
    parts = [
        "# Comparison of runs",
        "Each run is identified by the provenance its results recorded. Ratios are other/" + runs[0]["label"]
        + " of the medians, with the range from the runs' extremes; a difference is flagged **slower**/**faster** "
        f"only when the ratio passes {comparison['factor']:.2f} (or its inverse) and the two runs' ranges do not "
        "overlap, as `asv continuous` decides; a side with a single run has no known noise and is not flagged.",
        table(["run", *fields, "directory"], [[r["label"], *(fmt(r["identity"][f]) for f in fields), f"`{r['directory']}`"]
                                             for r in runs]),
    ]
    if comparison["differs_in"]:
        parts.append("The runs differ in: " + ", ".join(comparison["differs_in"])
                     + ". Ratios then compare machines or builds, not only noise.")
    if not comparison["tables"]:
        parts.append("_No measure appears in both runs (different rungs, thread counts or workloads)._")
    for name, rows in comparison["tables"].items():
        flagged = [r for r in rows if r["flag"] in ("slower", "faster")]
        cells = []
        for r in rows:
            flag = f"**{r['flag']}**" if r in flagged else r["flag"]
            cells.append([*(str(k) for k in r["key"]), f"{r['base']['median']:.4f} (n={r['base']['n']})",
                          f"{r['other_label']}: {r['other']['median']:.4f} (n={r['other']['n']})",
                          f"{r['ratio']:.2f} [{r['ratio_range'][0]:.2f}, {r['ratio_range'][1]:.2f}]", flag])
        parts += [f"## {TABLE_TITLES.get(name, name)}",
                  f"{len(flagged)} of {len(rows)} differences are beyond the noise.",
                  table(["measure", "workload", "threads", f"{runs[0]['label']} median s", "other median s",
                         "ratio [range]", "verdict"], cells)]
    return "\n\n".join(parts) + "\n"
