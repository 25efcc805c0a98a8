"""Merging result directories of different runs: described by their provenance, noise-aware flags."""

import shutil
from pathlib import Path

import pytest

from blasbench import UserError
from blasbench.cli import main
from blasbench.render.compare import render_compare
from blasbench.results.compare import compare_dirs, measures
from blasbench.results.directory import Results
from blasbench.results.stats import compare_summaries, summarize

DATA = Path(__file__).resolve().parent / "data"
RUN_A, RUN_B = DATA / "xeon16-pypi-a", DATA / "xeon16-pypi-b"


def test_a_change_beyond_the_factor_and_the_spread_is_flagged():
    base, slower = summarize([1.00, 1.02, 0.99]), summarize([1.30, 1.28, 1.33])
    assert compare_summaries(base, slower, 1.10)["flag"] == "slower"
    assert compare_summaries(slower, base, 1.10)["flag"] == "faster"


def test_a_ratio_inside_the_runs_spread_is_noise():
    base, other = summarize([1.0, 1.4, 1.2]), summarize([1.35, 1.1, 1.5])
    result = compare_summaries(base, other, 1.10)
    assert result["ratio"] > 1.10  # the medians alone would call it a regression
    assert result["flag"] == "within noise"


def test_a_clean_shift_smaller_than_the_factor_is_not_flagged():
    result = compare_summaries(summarize([1.00, 1.01, 1.00]), summarize([1.05, 1.06, 1.05]), 1.10)
    assert result["flag"] == "below the factor"


def test_single_runs_have_no_known_noise_and_are_never_flagged():
    assert compare_summaries(summarize([1.0]), summarize([2.0]), 1.10)["flag"] == "single run: noise unknown"


def test_two_recorded_runs_merge_on_their_shared_measures():
    comparison = compare_dirs([RUN_A, RUN_B])
    shared = set(measures(Results.load(RUN_A))["scaling"]) & set(measures(Results.load(RUN_B))["scaling"])
    assert shared
    assert {tuple(row["key"]) for row in comparison["tables"]["scaling"]} == shared
    # same machine type, different OpenBLAS: said from the recorded provenance
    assert "cpu" not in comparison["differs_in"] and "blas" in comparison["differs_in"]
    report = render_compare(comparison)
    assert "Intel(R) Xeon(R) Processor (16 usable cores)" in report
    assert "| 4-contiguous | [784,300,10], 50,000 examples | 1 |" in report


def test_runs_are_identified_by_provenance_not_by_directory_name(tmp_path):
    renamed = tmp_path / "some-other-name"
    shutil.copytree(RUN_A, renamed)
    original, copy = compare_dirs([RUN_A, RUN_B])["runs"][0], compare_dirs([renamed, RUN_B])["runs"][0]
    assert original["description"] == copy["description"]


def test_a_directory_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no result with recorded provenance"):
        compare_dirs([RUN_A, tmp_path])
    with pytest.raises(UserError, match="is not a results directory"):
        compare_dirs([RUN_A, tmp_path / "missing"])


def test_the_command_writes_data_and_report(tmp_path, capsys):
    assert main(["compare", str(RUN_A), str(RUN_B), "--output", str(tmp_path)]) == 0
    assert (tmp_path / "compare.json").exists() and (tmp_path / "compare.md").exists()
    assert main(["compare", str(RUN_A)]) == 2
    assert "needs two or more result directories" in capsys.readouterr().err



def test_compare_puts_threading_maps_side_by_side(tmp_path):
    """Two machines' maps (one map run twice here): every cell both measured, per thread count."""
    import json

    from blasbench.results.compare import compare_dirs
    from blasbench.results.kinds import write_result

    environment = json.loads((Path(__file__).parent / "data" / "epyc2-a" / "scaling.json").read_text())["environment"]
    settings = {"calls": ["solve"], "dtypes": ["float64"], "sizes": [2], "threads": [1, 2], "repeats": 3, "rounds": 1,
                "max_seconds": 1.0}
    for name, seconds in (("a", 1.0), ("b", 3.0)):
        cells = [{"call": "solve", "dtype": "float64", "n": 2, "number": 1,
                  "seconds": {**summarize([seconds, seconds * 1.01, seconds * 0.99]), "values": [seconds] * 3}}]
        write_result(tmp_path / name / "threadmap.json", {"kind": "threadmap", "settings": settings, "refused": [],
                                                          "environment": environment,
                                                          "runs": [{"round": 0, "threads": 1, "cells": cells}]})
    comparison = compare_dirs([tmp_path / "a", tmp_path / "b"])
    [row] = comparison["tables"]["threadmap"]
    assert row["key"] == ["`solve` float64 n = 2", "threading map", 1] and row["flag"] == "slower"


def test_compare_says_per_run_where_threads_hurt_so_a_row_names_the_blas_with_the_pathology(tmp_path):
    """Two BLAS setups' recorded maps (Debian's OpenBLAS and PyPI's wheels, epyc2-zen3-maps-d): each
    run's own verdict per call beside the other's, as its threadmap.md says it."""
    variants = Path(__file__).resolve().parent.parent / "reports" / "examples" / "epyc2-zen3-maps-d" / "variants"
    comparison = compare_dirs([variants / "system-pthread", variants / "pypi"])
    effects = {run["label"]: run["thread_effects"] for run in comparison["runs"]}
    [pypi] = effects["B"]
    assert pypi["threads"] == 2 and pypi["dtype"] == "float64"
    matmul = next(effect for effect in pypi["calls"] if effect["call"] == "a @ b")
    assert matmul["hurts"] and max(matmul["hurts"]) == 64  # as its threadmap.md says
    report = render_compare(comparison)
    assert "## Where threads hurt, per run" in report
    [row] = [line for line in report.splitlines() if line.startswith("| `a @ b` float64 |")]
    assert row.count("slower** at n = ") + row.count("never slower") == 2 and "64 (worst 0.7" in row
