"""The seed post's published figures (copied into the package from the project's seed), to put beside
what is measured here, and the recommendation rule applied to them."""

from __future__ import annotations

import functools
import json
from importlib.resources import files

from .stats import recommend


@functools.cache
def seed_figures() -> dict:
    """The figures published with the seed post (copied into the package from the project's seed),
    read once per process."""
    return json.loads(files("blasbench").joinpath("seed_figures.json").read_text())


def reference_accuracy() -> dict:
    """Not published by the post: its own code, measured on this project's data."""
    return seed_figures()["accuracy"]["reference_measured"]


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



def seed_recommendation() -> int:
    """The rule applied to the seed post's own timings (1-10 threads)."""
    seed = seed_scaling()
    return recommend(seed["threads"], [[seed["wall"][p]] for p in seed["threads"]])["threads"]

