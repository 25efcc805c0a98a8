"""``bench.json``: one cost-and-gradient per rung against the DGEMM rate (and peers)."""

from __future__ import annotations

from .base import Kind
from .scaling import workload_label


def bench_label(row: dict) -> str:
    """A bench row's name: the rung and its dtype, or the peer."""
    return f"{row['rung']} {row['dtype']}" if row.get("rung") else row["peer"]


def _float64_rows_no_peers(data: dict) -> dict:
    """Version 1's rows were float64 rungs only, with no peers."""
    data["rows"] = [{"dtype": "float64", **row} for row in data["rows"]]
    data.setdefault("peers", {})
    return data


def _best_of_three(data: dict) -> dict:
    """Version 2 took the best of 3 DGEMM runs without saying so."""
    return {**data, "dgemm_repeats": 3}


class Bench(Kind):
    name, file = "bench", "bench.json"
    required = ("rows",)
    migrations = {2: _float64_rows_no_peers, 3: _best_of_three}
    command, session = "bench", "bench"
    table, measure_title = "bench", "Benchmark (seconds per cost-and-gradient)"

    def measures(self, result: dict, findings: None) -> dict[tuple, dict]:
        label = workload_label({"layers": ",".join(map(str, result["layers"])), "train_size": result["train_size"]})
        return {(bench_label(row), label, row["threads"]): row["seconds"] for row in result["rows"]}


KIND = Bench()
