"""From measured points to findings: per-variant scaling tables, fits and recommendations,
and the seed post's published figures to put beside them."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib.resources import files

from .stats import amdahl_fit, amdahl_limit, karp_flatt, recommend, summarize

PHASES = ("products", "sigmoid", "elementwise", "rest")


def seed_figures() -> dict:
    """The figures published with the seed post (copied into the package from the project's seed)."""
    return json.loads(files("blasbench").joinpath("seed_figures.json").read_text())


def seed_scaling() -> dict:
    """The seed's wall, user and system seconds per thread count, with its speedup."""
    scaling = seed_figures()["scaling"]
    wall = {int(p): t for p, t in scaling["threads_vs_wall_seconds"].items()}
    return {
        "threads": sorted(wall),
        "wall": wall,
        "user": {int(p): t for p, t in scaling["threads_vs_user_seconds"].items()},
        "system": {int(p): t for p, t in scaling["threads_vs_system_seconds"].items()},
        "speedup": {p: wall[1] / t for p, t in wall.items()},
    }


def phases_with_rest(point: dict) -> dict:
    timed = {name: point["phases"].get(name, 0.0) for name in PHASES[:-1]}
    timed["rest"] = max(0.0, point["wall"] - sum(timed.values()))
    return timed


def analyse_variant(points: list[dict]) -> dict:
    """Medians and spreads per thread count, speedup, efficiency, Karp–Flatt, Amdahl fit."""
    by_threads = defaultdict(list)
    for point in points:
        by_threads[point["threads"]].append(point)
    threads = sorted(by_threads)
    rows = []
    for p in threads:
        runs = by_threads[p]
        wall = summarize([r["wall"] for r in runs])
        phases = {name: summarize([phases_with_rest(r)[name] for r in runs])["median"] for name in PHASES}
        rows.append({"threads": p, "runs": len(runs), "wall": wall,
                     "user": summarize([r["user"] for r in runs])["median"],
                     "system": summarize([r["system"] for r in runs])["median"],
                     "seconds_per_iteration": summarize([r["seconds_per_iteration"] for r in runs])["median"],
                     "phases": phases})
    base = rows[0]  # speedup is relative to the fewest threads measured, normally 1
    for row in rows:
        row["speedup"] = base["wall"]["median"] / row["wall"]["median"]
        row["efficiency"] = row["speedup"] * base["threads"] / row["threads"]
        row["karp_flatt"] = karp_flatt(row["speedup"], row["threads"]) if base["threads"] == 1 else None
        row["phase_speedup"] = {name: (base["phases"][name] / row["phases"][name]) if row["phases"][name] > 0 else None
                                for name in PHASES}
    medians = [row["wall"]["median"] for row in rows]
    fit = amdahl_fit(threads, medians)
    return {
        "rows": rows,
        "amdahl": {**fit, "max_speedup": amdahl_limit(fit["serial_fraction"])},
        "recommended_threads": recommend(threads, medians),
        "best_threads": threads[medians.index(min(medians))],
    }


def analyse_scaling(results: dict) -> dict:
    variants = defaultdict(list)
    for point in results["points"]:
        variants[point["variant"]].append(point)
    return {variant: analyse_variant(points) for variant, points in variants.items()}


def analyse_profile(results: dict) -> list[dict]:
    """Each rung's shares and its change against the previous rung."""
    rows, previous = [], None
    for rung in results["rungs"]:
        profile = rung["cprofile"]
        row = {
            "rung": rung["rung"], "options": rung["options"], "seconds": rung["seconds"],
            "evaluations": rung["evaluations"], "seconds_per_evaluation": rung["seconds"] / rung["evaluations"],
            "share": {k: profile[k] / profile["total"] for k in ("sigmoid", "products", "elsewhere")},
            "phases": rung["phases"], "prof": rung["prof"],
        }
        if previous:
            row["change"] = {
                "overall": row["seconds_per_evaluation"] / previous["seconds_per_evaluation"] - 1,
                "sigmoid": _per_eval(profile["sigmoid"], rung) / _per_eval(previous["cprofile"]["sigmoid"], previous) - 1,
                "products": _per_eval(profile["products"], rung) / _per_eval(previous["cprofile"]["products"], previous) - 1,
            }
        rows.append(row)
        previous = {**rung, "seconds_per_evaluation": row["seconds_per_evaluation"]}
    return rows


def _per_eval(seconds: float, rung: dict) -> float:
    return seconds / rung["evaluations"]


NO_LIMIT, ALL_LIMITED = "no limit", "all four thread variables = 1"


def verdict(variant: dict, fastest: dict) -> str:
    """One line: does this variant run BLAS in parallel, does the workload gain, what is ignored."""
    speedup = variant["dgemm_all"]["gflops"] / variant["dgemm_one"]["gflops"]
    threads, cores = variant["threads_all"], variant["blas"]["usable_cores"]
    if variant["dgemm_all"]["cpu_per_wall"] < 1.3:
        words = f"single-threaded BLAS (DGEMM {speedup:.2f}x with {cores} cores free)"
    elif speedup >= 1.5:
        words = f"parallel BLAS (DGEMM {speedup:.2f}x on {threads} threads)"
    else:
        words = f"threads run but do not pay (DGEMM {speedup:.2f}x on {threads} threads)"
    words += f", training {variant['training_speedup']:.2f}x on {variant['all']['threads']} threads"
    if variant is fastest:
        words += "; the fastest here"
    else:
        words += f"; {variant['best_seconds'] / fastest['best_seconds']:.1f}x the fastest's time"
    if variant["ignored"]:
        words += "; **ignores** " + ", ".join(variant["ignored"])
    return words


def analyse_variants(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per measured variant: DGEMM at one and all threads (share of nominal peak), training
    time at one and all threads, speedup and a verdict; and the variants that failed."""
    measured, failed = [], []
    for record in records:
        if "error" in record or not (record.get("scaling") or {}).get("points"):
            failed.append(record)
            continue
        [sweep] = analyse_scaling(record["scaling"]).values()
        limits = {row["setup"]: row for row in record["limits"]}
        one, everyone = limits[ALL_LIMITED], limits[NO_LIMIT]
        peak = everyone["peak_gflops_per_core_estimate"]
        threads_all = everyone["reported_threads"] or 1
        rows = sweep["rows"]
        best = min(rows, key=lambda r: r["wall"]["median"])
        measured.append({
            "name": record["variant"]["name"], "description": record["variant"]["description"],
            "blas": everyone, "library": record["installed"]["library"],
            "dgemm_one": one["dgemm"], "dgemm_all": everyone["dgemm"], "threads_all": threads_all,
            "share_of_peak_one": one["dgemm"]["gflops"] / peak if peak else None,
            "share_of_peak_all": everyone["dgemm"]["gflops"] / (peak * threads_all) if peak else None,
            "rows": rows, "one": rows[0], "all": rows[-1], "best_seconds": best["wall"]["median"],
            "training_speedup": rows[0]["wall"]["median"] / rows[-1]["wall"]["median"],
            "ignored": [row["setup"] for row in record["limits"] if row["honoured"] is False],
            "limits": record["limits"], "environment": record.get("environment"),
            "settings": record["scaling"]["settings"],
        })
    if measured:
        fastest = min(measured, key=lambda v: v["best_seconds"])
        for variant in measured:
            variant["verdict"] = verdict(variant, fastest)
    return measured, failed
