"""reports/build.md: what was built from what, and its verification."""

from __future__ import annotations

from pathlib import Path

from .format import PEAK_NOTE, fmt, provenance_lines, table

VERDICT = {"passed": "passed", "failed": "FAILED", "inconclusive": "inconclusive: machine busy"}


def blas_word(library: dict) -> str:
    """What to call the library built against: OpenBLAS when its build config says so, else BLAS."""
    return "OpenBLAS" if library["config"].startswith("OpenBLAS") else "BLAS"


def verdict(verification: dict) -> str:
    """A verification's outcome in words (version-1 results have no status, only ok)."""
    return VERDICT[verification.get("status") or ("passed" if verification["ok"] else "failed")]


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
        f"# Build: NumPy and SciPy from source against {blas_word(ob)} ({ob['provider']})",
        f"Verification **{verdict(verification)}**. "
        f"This run took {result['seconds_this_run']:.1f} s.",
        "## What was built",
        table(["package", "version", "wheel", "key", "cold build", "this run"], wheel_rows),
        f"Wheels live in the wheelhouse outside the clone (`{Path(result['wheels'][0]['wheel']).parent.parent}`), "
        "one directory per key; the key hashes every input below.",
        "## From what",
        table(["input", "value"], [
            ["provider", f"{ob['provider']} ({ob['variant']})"],
            ["BLAS", f"{ob['version']}, threading `{ob['threading_layer']}`, core `{ob['architecture']}`, "
                         f"{'ILP64' if ob['ilp64'] else 'LP64'}"],
            ["library", f"`{ob['library']}`"],
            *([["build config", f"`{ob['config']}`"]] if ob["config"] else []),
            *([["compiled from", f"Debian {o['suite']}'s `{o['dsc']}`: `{o['orig']}` sha256 `{o['orig_sha256']}`, "
                                 f".dsc sha256 `{o['dsc_sha256']}`; make {' '.join(f'{k}={v}' for k, v in o['make'].items())}; "
                                 f"{o['compile_seconds'] / 60:.0f} min to compile"]] if (o := ob.get("origin")) else []),
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
        ]), f"Speedup {probe['speedup']:.2f}x. {PEAK_NOTE} On this CPU: {fmt(peak, 1)} GFLOP/s per core."]
    parts += ["## Provenance", provenance_lines(result.get("environment"))]
    return "\n\n".join(parts) + "\n"
