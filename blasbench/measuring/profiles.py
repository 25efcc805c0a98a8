"""The profiling sweep: the seed's optimisation ladder, each rung profiled with cProfile in
its own process. The .prof files are kept; open one with ``snakeviz reports/profile/<rung>.prof``."""

from __future__ import annotations

import pstats
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from .. import provenance
from ..results.identity import identity
from ..results.kinds import write_result
from .sweep import Workload, current_identity, resume, run_child

# Functions of nn/network.py that compute the sigmoid (or sigma' fused into delta), and the
# one that wraps the BLAS products.
SIGMOID_FUNCTIONS = {"sigmoid_numpy", "sigmoid_expit", "sigmoid_numexpr", "sigmoid_of_affine", "times_sigmoid_prime"}
PRODUCT_FUNCTION = "product"


def summarize_profile(prof: Path) -> dict:
    """Total profiled time and the cumulative time in the sigmoid functions and the products."""
    stats = pstats.Stats(str(prof)).stats
    sigmoid = products = 0.0
    for (filename, _, name), (_, _, _, cumulative, _) in stats.items():
        if not filename.endswith("network.py"):
            continue
        if name in SIGMOID_FUNCTIONS:
            sigmoid += cumulative
        elif name == PRODUCT_FUNCTION:
            products += cumulative
    total = max(cumulative for (_, _, _, cumulative, _) in stats.values())
    return {"total": total, "sigmoid": sigmoid, "products": products, "elsewhere": total - sigmoid - products}


def run_profiles(rungs: list[str], workload: Workload, threads: int | None, path: Path) -> dict:
    """Profile every rung; ``path`` (profile.json) is rewritten after each, .prof files go beside it."""
    directory = path.parent / "profile"
    directory.mkdir(parents=True, exist_ok=True)
    settings = {"workload": asdict(workload), "threads": threads or provenance.usable_cores()}
    wanted = {"settings": settings, "identity": current_identity()}
    results = resume(path, "profile", wanted) or {"kind": "profile", **wanted, **settings, "rungs": [], "environment": None}
    done = {r["rung"] for r in results["rungs"]}
    for rung in tqdm([r for r in rungs if r not in done], desc="profiling sweep", unit="rung", dynamic_ncols=True):
        prof = directory / f"{rung}.prof"
        result = run_child(workload, rung, threads, profile=prof)
        results["environment"] = results["environment"] or result["environment"]
        results["rungs"].append({
            "rung": rung, "options": result["network"]["options"], "seconds": result["seconds_total"],
            "evaluations": result["evaluations"], "phases": result["phase_seconds"],
            "cprofile": summarize_profile(prof), "prof": str(prof.relative_to(path.parent)),
            "cv_accuracy": result["final"]["cv_accuracy"], "load": result["load"],
            "identity": identity(result["environment"]),
        })
        write_result(path, results)
    return results
