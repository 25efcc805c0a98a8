"""Markdown reports rendered from the JSON results beside them; rendering never reruns anything."""

from __future__ import annotations

from pathlib import Path

from .analysis import PHASES, analyse_profile, analyse_scaling, seed_figures, seed_scaling
from .store import atomic_write_text, read_json


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
        ]), f"Speedup {probe['speedup']:.2f}x. Peak is estimated as nominal clock x 16 double FLOPs/cycle "
            f"= {fmt(peak, 1)} GFLOP/s per core."]
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


def render_scaling(result: dict, figure: str | None = None) -> str:
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
    parts += ["## Provenance", provenance_lines(result.get("environment"))]
    return "\n\n".join(parts) + "\n"


def headline(results: Path) -> list[str]:
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
                     f"and the products {pct(first['share']['products'])} of the time (seed post: 54.5% and 37.3%); "
                     f"an evaluation at the ladder's last rung (`{last['rung']}`) takes 1/{ratio:.2f} of the time.")
    if (results / "scaling.json").exists():
        for variant, a in analyse_scaling(read_json(results / "scaling.json")).items():
            top = a["rows"][-1]
            lines.append(f"- [Scaling](scaling.md) `{variant}`: {top['speedup']:.2f}x at {top['threads']} threads "
                         f"({pct(top['efficiency'])} efficiency); use {a['recommended_threads']} thread(s). "
                         "Seed post: about 3x at 4 threads, flat after 6.")
    return lines


def render_index(results: Path) -> str:
    return "\n\n".join([
        "# Reports",
        "Every report is rendered from the JSON result beside it; `nox -s report` renders them again without "
        "rerunning anything.",
        "\n".join(headline(results)) or "_No results yet: run `nox -s build-openblas` and `nox -s scaling`._",
    ]) + "\n"


def render_all(results: Path) -> list[Path]:
    """Render every report whose JSON result is in ``results``, then the index; returns the files written."""
    written = []
    for name, render in (("build", render_build), ("profile", render_profile), ("scaling", render_scaling)):
        source = results / f"{name}.json"
        if not source.exists():
            continue
        data = read_json(source)
        extra = {}
        if name == "scaling" and data["points"]:
            from .plots import plot_scaling

            written += plot_scaling(analyse_scaling(data), results / "scaling")
            extra["figure"] = "scaling.svg"
        if name != "scaling" or data["points"]:
            target = results / f"{name}.md"
            atomic_write_text(target, render(data, **extra))
            written.append(target)
    index = results / "index.md"
    atomic_write_text(index, render_index(results))
    return written + [index]
