"""reports/build.md: what was built from what, and its verification."""

from __future__ import annotations

from pathlib import Path

from ..facts import REBUILDS, STATUS_WORDS
from ..results.directory import Results
from ..results.kinds.build import describe_difference
from ..setups import built_setup
from .format import PEAK_NOTE, fmt, provenance_lines, table

KINDS = ("build",)


def pages(results: Results, out) -> None:
    out.page("build.md", render_build(results["build"]))


def headline(results: Results) -> list[str]:
    build = results["build"]
    probe, blas = build["verification"].get("probe", {}), build["blas"]
    return [f"- [Build](build.md): {built(build)} compiled against {blas_word(blas)} {blas['version']} "
            f"({blas['threading_layer']}; setup `{built_setup(blas, build['wheels'])}`); "
            f"verification **{status(build['verification'])}**"
            + (f", DGEMM {probe['speedup']:.2f}x faster on all threads than on one." if probe else ".")]


def blas_word(library: dict) -> str:
    """What to call the library built against: OpenBLAS when its build config says so, else BLAS."""
    return "OpenBLAS" if library["config"].startswith("OpenBLAS") else "BLAS"


def built(result: dict) -> str:
    """What a build compiled: NumPy and SciPy, or NumPy alone (``+numpy-only``)."""
    return " and ".join({"numpy": "NumPy", "scipy": "SciPy"}[w["package"]] for w in result["wheels"])


def status(verification: dict) -> str:
    """A verification's outcome in words."""
    return STATUS_WORDS[verification["status"]]


KEY_PROMISE = ("A key promises the same inputs: the sdist, the BLAS as described (version, build config, "
               "pkg-config text), the meson options, Python, platform, libc, compilers and build tools. Every build "
               "sets `SOURCE_DATE_EPOCH` to the sdist's newest member time and compiles in fixed source and build "
               "directories under the cache, so that two builds of one key in one cache location give the same bytes; "
               "what the key does not hold (the cache's path, where it leaks into a binary; the BLAS file's own bytes) "
               "can still differ, and `--check-reproducible` names the member and section where it does.")


def reproducibility_lines(checks: list[dict]) -> str:
    """Each wheel's second build (compiled again, or packaged again from ccache's objects): identical, or where it differs."""
    rows = []
    for check in checks:
        if check["verdict"] == "library-changed":
            rows.append([check["package"], "not compared", check["detail"]])
        elif check["verdict"] == "identical":
            rows.append([check["package"], "**identical**",
                         f"sha256 `{check['sha256'][0][:16]}` both; {REBUILDS[check.get('how', 'compile')]} in "
                         f"{check['seconds']:.0f} s"])
        else:
            rows.append([check["package"], "**differs**", f"sha256 `{check['sha256'][0][:16]}` vs `{check['sha256'][1][:16]}`; "
                         + "; ".join(describe_difference(d) for d in check["differences"][:8])
                         + (f"; and {len(check['differences']) - 8} more" if len(check["differences"]) > 8 else "")
                         if check["differences"] else "the members are identical, the zip containers are not"])
    return table(["package", "second build", "detail"], rows)


def render_build(result: dict) -> str:
    blas, verification = result["blas"], result["verification"]
    wheel_rows = []
    for w in result["wheels"]:
        m = w["manifest"]
        ccache = m.get("ccache") if isinstance(m.get("ccache"), dict) else {}
        warmth = f", ccache {ccache['hits']} hits / {ccache['misses']} misses" if "hits" in ccache else ""
        wheel_rows.append([w["package"], w["version"], f"`{Path(w['wheel']).name}`", f"`{w['key'][:16]}`",
                           f"{m['build_seconds']:.0f} s wall, {m['build_cpu_seconds']:.0f} s CPU{warmth} ({m['built_at']})",
                           ("reused from the wheelhouse" if w["cached"] else "compiled") + f", {w['seconds_this_run']:.1f} s"])
    check_rows = [["PASS" if c["ok"] else "**FAIL**", c["name"], c["detail"] + (f" — {c['hint']}" if c["hint"] else "")]
                  for c in verification["checks"]]
    packages = built(result)
    parts = [
        f"# Build: {packages} from source against {blas_word(blas)} (setup `{built_setup(blas, result['wheels'])}`)",
        f"Verification **{status(verification)}**. "
        f"This run took {result['seconds_this_run']:.1f} s.",
        "## What was built",
        table(["package", "version", "wheel", "key", "cold build", "this run"], wheel_rows),
        f"Wheels live in the wheelhouse outside the clone (`{Path(result['wheels'][0]['wheel']).parent.parent}`), "
        "one directory per key; the key hashes every input below.",
        "## From what",
        table(["input", "value"], input_rows(result)),
        "pkg-config file given to meson:",
        "```\n" + blas["pc_text"].rstrip() + "\n```",
    ]
    if "reproducibility" in result:
        parts += ["## Reproducible?", reproducibility_lines(result["reproducibility"]), KEY_PROMISE]
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


def input_rows(result: dict) -> list[list[str]]:
    """What a build was made from: the BLAS as described, the meson options, compilers and tools."""
    blas, inputs = result["blas"], result["wheels"][0]["manifest"]["inputs"]
    origin = ([["compiled from", f"Debian {o['suite']}'s `{o['dsc']}`: `{o['orig']}` sha256 `{o['orig_sha256']}`, "
                                 f".dsc sha256 `{o['dsc_sha256']}`; make {' '.join(f'{k}={v}' for k, v in o['make'].items())}; "
                                 f"{o['compile_seconds'] / 60:.0f} min to compile"
                                 + (f"; target: {o['target']}" if "target" in o else "")]] if (o := blas.get("origin")) else [])
    return [
        ["setup", f"`{built_setup(blas, result['wheels'])}` (provider {blas['provider']}, flavour {blas['flavour'] or 'none'})"],
        ["BLAS", f"{blas['version']}, threading `{blas['threading_layer']}`, core `{blas['architecture']}`, "
                 f"{'ILP64' if blas['ilp64'] else 'LP64'}"],
        ["library", f"`{blas['library']}`"],
        *([["build config", f"`{blas['config']}`"]] if blas["config"] else []),
        *origin,
        *[[f"meson options ({package})", " ".join(f"`{a}`" for a in args)] for package, args in result["meson_args"].items()],
        ["compilers", "; ".join(f"{k}: {v}" for k, v in inputs["toolchain"].items())],
        ["build tools", ", ".join(inputs["build_tools"])],
        ["Python / platform", f"{inputs['python']}, {inputs['platform']}, {inputs['libc']}"],
        ["extra flags", ", ".join(f"{k}={v}" for k, v in inputs["flags"].items()) or "none"],
    ]
