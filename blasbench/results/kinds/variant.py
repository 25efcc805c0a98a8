"""``variants/<name>/variant.json``: one of several setups measured side by side, with the sweep
(``scaling.json``) and threading map (``threadmap.json``) measured in its environment beside it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...facts import ALL_LIMITED, HONOURED_CORES, NO_LIMIT, PARALLEL_SPEEDUP, SERIAL_LAYERS
from ...setups import DEFAULT_VARIANT, VARIANTS
from ..change import beyond_factor, beyond_noise, decide
from .base import Kind, compare_cells, conditions_were_setups, read_kind
from .scaling import KIND as SCALING
from .scaling import analyse_scaling, sweep_measures
from .threadmap import KIND as THREADMAP
from .threadmap import analyse_threadmap


def threading(variant: dict) -> str:
    """How a variant's BLAS ran the probe's DGEMM on every thread: "serial" (a single-threaded
    BLAS), "one unless told" (one thread with no thread variable set: the probe sets none, while a
    sweep's points set every one), "parallel" (at least PARALLEL_SPEEDUP faster than on one), or
    "no gain" (threads ran but did not pay)."""
    serial = variant["blas"]["threading_layer"] in SERIAL_LAYERS or not variant["blas"]["reported_threads"]
    if variant["dgemm_all"]["cpu_per_wall"] < HONOURED_CORES:
        return "serial" if serial else "one unless told"
    return "parallel" if variant["dgemm_speedup"] >= PARALLEL_SPEEDUP else "no gain"


def limit_effect(row: dict, rows: list[dict]) -> str | None:
    """What one way of asking for one thread did (``rows``: every way, measured alike): "honoured"
    (the DGEMM kept at most HONOURED_CORES busy), "compute only" (it ran at the one-thread rate,
    nearer that of an honoured limit than the free rate, while the library's idle threads kept
    cores busy spinning), "ignored", or None where the library ran one thread without a limit."""
    if row["honoured"] is not False:
        return None if row["honoured"] is None else "honoured"
    one = [r["dgemm"]["gflops"] for r in rows if r["honoured"]]
    free = next(r for r in rows if r["condition"] == NO_LIMIT)["dgemm"]["gflops"]
    rate = row["dgemm"]["gflops"]
    return "compute only" if one and abs(rate - min(one, key=lambda g: abs(g - rate))) < abs(rate - free) else "ignored"


def analyse_variants(records: list[dict], maps: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """Per measured variant: DGEMM at one and all threads (share of nominal peak), training
    time at one and all threads, speedup, how its BLAS threads, and its threading map's analysis
    (``maps``, by variant); and the variants that failed or have neither a sweep nor a map, a variant
    stopped by an error in both lists (what it measured before the error, and the error). A variant
    mapped and not swept is in neither: ``maps`` has it."""
    measured, failed = [], []
    for record in records:
        scaling = record.get("scaling") or {}
        # a speedup to show: the limits probed and every thread count measured at least once
        points = scaling.get("points") or []
        swept = bool(points) and "limits" in record and {p["threads"] for p in points} >= set(scaling["settings"]["threads"])
        if "error" in record or not (swept or record["variant"]["name"] in maps):
            failed.append(record)
        if not swept:
            continue
        [sweep] = analyse_scaling(record["scaling"]).values()
        limits = {row["condition"]: row for row in record["limits"]}
        one, everyone = limits[ALL_LIMITED], limits[NO_LIMIT]
        peak = everyone["peak_gflops_per_core_estimate"]
        threads_all = everyone["reported_threads"] or 1
        rows = sweep["rows"]
        best = min(rows, key=lambda r: r["wall"]["median"])
        measured.append(variant := {
            "name": record["variant"]["name"], "description": record["variant"]["description"],
            # records before setups were spelt name their variant alone
            "setup": record["variant"].get("setup") or str(VARIANTS[record["variant"]["name"]].setup),
            "blas": everyone, "library": record["installed"]["library"],
            "dgemm_one": one["dgemm"], "dgemm_all": everyone["dgemm"], "threads_all": threads_all,
            "share_of_peak_one": one["dgemm"]["gflops"] / peak if peak else None,
            "share_of_peak_all": everyone["dgemm"]["gflops"] / (peak * threads_all) if peak else None,
            "rows": rows, "points": record["scaling"]["points"], "one": rows[0], "all": rows[-1],
            "best_seconds": best["wall"]["median"],
            "training_speedup": rows[0]["wall"]["median"] / rows[-1]["wall"]["median"],
            "ignored": [row["condition"] for row in record["limits"] if limit_effect(row, record["limits"]) == "ignored"],
            "limits": record["limits"], "environment": record.get("environment"),
            "settings": record["scaling"]["settings"], "blas_sha256": record.get("blas_sha256", {}),
            "build_seconds": build_seconds(record["installed"]),
            "threadmap": maps.get(record["variant"]["name"]),
            "dgemm_speedup": everyone["dgemm"]["gflops"] / one["dgemm"]["gflops"],
            "answers": sweep["answers"],
        })
        variant["threading"] = threading(variant)
    if measured:
        fastest = min(measured, key=lambda v: v["best_seconds"])
        for variant in measured:
            variant["against_fastest"] = variant["best_seconds"] / fastest["best_seconds"]
            variant["fastest"] = variant is fastest
    return measured, failed


def build_seconds(installed: dict) -> float | str | None:
    """How long compiling the variant's NumPy and SciPy took: "prebuilt" for PyPI's wheels, None
    when the record predates build times."""
    seconds = [w.get("build_seconds") for w in installed.get("wheels", [])]
    if not seconds:
        return "prebuilt"
    return sum(seconds) if None not in seconds else None


def serial_without_limit(limits: list[dict]) -> bool:
    """Whether the BLAS ran one core with no limit set, so that no limit had anything to honour."""
    return next(r for r in limits if r["condition"] == NO_LIMIT)["dgemm"]["cpu_per_wall"] < HONOURED_CORES


def variants_findings(measured: list[dict]) -> dict:
    """What the comparison says, at one thread and at all: the fastest variant, by how much it
    beats the next one and the rule's verdict on that (the next "slower", or within noise, or
    undecided), each variant's time against the default build's, and which variants load the same binary."""
    findings = {}
    for end in ("one", "all"):
        ranked = sorted(measured, key=lambda v: v[end]["wall"]["median"])
        first, second = ranked[0], ranked[1] if len(ranked) > 1 else None
        findings[end] = {
            "threads": first[end]["threads"], "fastest": first["name"], "seconds": first[end]["wall"]["median"],
            "next": second and second["name"],
            "ratio": second and second[end]["wall"]["median"] / first[end]["wall"]["median"],
            # the next against the fastest, by the rule: "slower" where the fastest is fastest beyond noise
            "verdict": decide(walls(first, end), walls(second, end))["verdict"] if second else None,
        }
    baseline = next((v for v in measured if v["name"] == DEFAULT_VARIANT), None)
    findings["against_default"] = {v["name"]: {end: v[end]["wall"]["median"] / baseline[end]["wall"]["median"]
                                               for end in ("one", "all")} for v in measured} if baseline else {}
    by_digest: dict[str, list[str]] = {}
    for v in measured:
        for digest_ in v["blas_sha256"].values():
            by_digest.setdefault(digest_, []).append(v["name"])
    findings["same_binary"] = [names for names in by_digest.values() if len(names) > 1]
    return findings


def walls(variant: dict, end: str) -> list[float]:
    """A variant's training (or call) times at its fewest ("one") or most ("all") threads, one per point."""
    return [p["wall"] for p in variant["points"] if p["threads"] == variant[end]["threads"]]


def against_one(records: list[dict]) -> dict[str, dict]:
    """Per measure the setups share (their sweeps, their maps): every cell of each setup against the same cell of
    one setup, the default build's where it was measured (else the first), at each thread count both measured,
    by the rule for "changed": the setup compared against (``against``), the cells that differ beyond noise,
    how many cells were compared (each one a chance of a false alarm), per setup how many are beyond the
    change factor but undecided (or of unknown noise: one process a side), and the fewest processes a side
    any of those had."""
    found = {}
    for kind in (SCALING, THREADMAP):
        cells = {r["variant"]["name"]: kind.cells(r[kind.name]) for r in records if r.get(kind.name)}
        if len(cells) < 2:
            continue
        against = DEFAULT_VARIANT if DEFAULT_VARIANT in cells else next(iter(cells))
        compared = [{"setup": name, **cell} for name, its in cells.items() if name != against
                    for cell in compare_cells(kind, cells[against], its)]
        undecided = [c for c in compared if not beyond_noise(c["verdict"]) and beyond_factor(c["ratio"])]
        found[kind.name] = {"against": against, "compared": len(compared),
                            "undecided": dict(Counter(c["setup"] for c in undecided)),
                            "fewest_processes": min((min(c["processes"]) for c in undecided), default=None),
                            "differences": [c for c in compared if beyond_noise(c["verdict"])]}
    return found


def _conditions(record: dict) -> dict:
    return {**record, "limits": conditions_were_setups(record["limits"])} if "limits" in record else record


class Variant(Kind):
    name, file = "variant", "variant.json"
    required = ("variant",)
    migrations = {9: _conditions}
    command, session = "scaling", "scaling"
    table, measure_title = "variants", "BLAS variants (seconds per CG iteration)"

    def load(self, directory: Path) -> list[dict] | None:
        """Every variant measured under ``directory``, in the setups' order, each with its sweep
        and threading map where there are; None where there is none."""
        order = list(VARIANTS)
        paths = sorted((Path(directory) / "variants").glob(f"*/{self.file}"),
                       key=lambda p: (order.index(p.parent.name) if p.parent.name in order else len(order), p))
        records = []
        for path in paths:
            record = read_kind(path, self)
            for beside in (SCALING, THREADMAP):
                found = path.with_name(beside.file)
                record[beside.name] = read_kind(found, beside) if found.exists() else None
            records.append(record)
        return records or None

    def environments(self, records: list[dict]) -> list[tuple[str, dict]]:
        return [(f"variant {r['variant']['name']}", r["environment"]) for r in records if r.get("environment")]

    def analyse(self, records: list[dict]) -> dict:
        maps = {r["variant"]["name"]: analyse_threadmap(r["threadmap"]) for r in records if r.get("threadmap")}
        measured, failed = analyse_variants(records, maps)
        return {"measured": measured, "failed": failed, "maps": maps,
                "comparison": variants_findings(measured) if measured else None, "against_one": against_one(records)}

    def measures(self, records: list[dict], findings: dict) -> dict[tuple, dict]:
        found: dict[tuple, dict] = {}
        for record in records:
            if record.get("scaling"):
                found.update(sweep_measures(record["scaling"], prefix=record["variant"]["name"] + " "))
        return found


KIND = Variant()
