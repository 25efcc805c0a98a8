"""Merging result directories of different runs: described by their provenance, noise-aware flags."""

import random
import shutil
from pathlib import Path

import pytest

from blasbench import UserError
from blasbench.cli import main
from blasbench.render.compare import render_compare
from blasbench.results.change import decide, mann_whitney_p
from blasbench.results.compare import compare_dirs, measures
from blasbench.results.directory import Results
from blasbench.results.stats import summarize

DATA = Path(__file__).resolve().parent / "data"
RUN_A, RUN_B = DATA / "xeon16-pypi-a", DATA / "xeon16-pypi-b"


BASE = [1.00, 1.02, 0.99, 1.01, 0.98]


def test_a_change_beyond_the_factor_and_the_test_is_slower_or_faster():
    slower = [1.30, 1.28, 1.33, 1.31, 1.29]
    assert decide(BASE, slower)["verdict"] == "slower" and decide(slower, BASE)["verdict"] == "faster"
    assert decide(BASE, slower)["p"] == pytest.approx(2 / 252)  # five processes a side, wholly apart


def test_a_ratio_beyond_the_factor_inside_the_processes_spread_is_undecided():
    base, other = [1.0, 1.4, 1.2, 1.1, 1.3], [1.35, 1.1, 1.5, 1.45, 1.25]
    result = decide(base, other)
    assert result["ratio"] > 1.10  # the medians alone would call it a regression
    assert result["verdict"] == "undecided" and result["p"] > 0.01


def test_a_clean_shift_smaller_than_the_factor_is_no_change():
    assert decide(BASE, [1.05, 1.06, 1.05, 1.04, 1.07])["verdict"] == "no change"


def test_three_processes_a_side_cannot_pass_the_test_however_far_apart():
    """The smallest two-sided p of 3 against 3 is 0.1: the rule needs more processes, it does not guess."""
    assert decide([1.0, 1.01, 0.99], [2.0, 2.01, 1.99])["verdict"] == "undecided"


def test_single_processes_have_no_known_noise_and_are_never_flagged():
    assert decide([1.0], [2.0])["verdict"] == "noise unknown"


@pytest.mark.parametrize("n, m", [(5, 5), (3, 4), (6, 6), (2, 7)])
def test_the_exact_p_is_scipys(n, m):
    """The test is SciPy's Mann-Whitney U, exact; written here (as asv writes its own) because the
    environments that render a NumPy-only build's map have no SciPy."""
    from scipy.stats import mannwhitneyu

    rng = random.Random(n * 10 + m)
    for _ in range(20):
        x, y = [rng.random() for _ in range(n)], [rng.random() + 0.2 for _ in range(m)]
        assert mann_whitney_p(x, y) == pytest.approx(mannwhitneyu(x, y, method="exact").pvalue)


def test_large_samples_take_the_normal_approximation_with_ties():
    from scipy.stats import mannwhitneyu

    x, y = [round(0.1 * (i % 7), 1) for i in range(40)], [round(0.1 * (i % 9), 1) for i in range(40)]
    assert mann_whitney_p(x, y) == pytest.approx(mannwhitneyu(x, y, method="asymptotic").pvalue, rel=1e-6)


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
    assert main(["compare", str(RUN_A), str(RUN_B), "--results", str(tmp_path)]) == 0
    assert (tmp_path / "compare.json").exists() and (tmp_path / "compare.md").exists()
    assert main(["compare", str(RUN_A)]) == 2
    assert "needs two or more result directories" in capsys.readouterr().err



def one_cell_maps(tmp_path: Path, **seconds: float) -> None:
    """A map per name of `solve` at n = 2, one thread, five rounds 1% apart around ``seconds``."""
    for name, time in seconds.items():
        made_up_map(tmp_path / name, {2: time})


def made_up_map(directory: Path, seconds: dict[int, float], rounds: int = 5, jitter: int = 0) -> None:
    """A map of `solve` at the sizes of ``seconds`` (n -> its time), one thread, ``rounds`` processes 1% apart
    (shuffled by ``jitter``, a seed: each process's place in its cells' order drawn anew)."""
    import json
    import random

    from blasbench.results.kinds import write_result

    environment = json.loads((Path(__file__).parent / "data" / "epyc2-a" / "scaling.json").read_text())["environment"]
    settings = {"calls": ["solve"], "dtypes": ["float64"], "sizes": sorted(seconds), "threads": [1, 2], "measurements": 1,
                "rounds": rounds, "max_seconds": 1.0}
    draw = random.Random(jitter)
    order = {n: (draw.sample(range(rounds), rounds) if jitter else list(range(rounds))) for n in seconds}
    runs = [{"round": r, "threads": 1, "cells": [
        {"call": "solve", "dtype": "float64", "n": n, "number": 1,
         "seconds": {**summarize([value := time * (1 + 0.01 * order[n][r])]), "values": [value]}}
        for n, time in seconds.items()]} for r in range(rounds)]
    write_result(directory / "threadmap.json", {"kind": "threadmap", "settings": settings, "refused": [],
                                                "environment": environment, "runs": runs})


def test_the_gate_fails_on_a_slower_measure_naming_it_and_passes_on_the_same_run(tmp_path, capsys):
    one_cell_maps(tmp_path, a=1.0, same=1.0, b=3.0)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on", "slower",
                 "--results", str(tmp_path / "gate")]) == 1
    out = capsys.readouterr().out
    assert ("FAIL: threadmap `solve` float64 n = 2 (threading map) at 1 thread(s) (run B): slower, 3.00x the baseline's time"
            in out)
    assert "FAIL: 1 of 1 measure(s) slower beyond the change factor and Holm's control at 0.05 over 1 measure(s)" in out
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "same"), "--fail-on", "changed",
                 "--results", str(tmp_path / "gate2")]) == 0
    assert main(["compare", str(tmp_path / "b"), str(tmp_path / "a"), "--fail-on", "slower",
                 "--results", str(tmp_path / "gate3")]) == 0  # faster is not slower


def test_a_gate_over_many_measures_with_too_few_processes_to_decide_is_undecidable_not_a_pass(tmp_path, capsys):
    """40 measures of five processes a side: the smallest p five can give (0.0079) cannot pass Holm's first step
    (0.05 / 40), so a cell 3x slower is not a failure the gate can claim, nor is the run a pass: exit 3, naming
    the processes a side that could decide (7: 2 / C(14, 7) = 0.00058)."""
    sizes = {n: 1.0 for n in range(2, 42)}
    made_up_map(tmp_path / "a", sizes)
    made_up_map(tmp_path / "b", {**sizes, 2: 3.0})
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on", "slower",
                 "--results", str(tmp_path / "gate")]) == 3
    out = capsys.readouterr().out
    assert "UNDECIDABLE: 1 of 40 measure(s) open" in out and "`--rounds 7`" in out


def test_a_gate_over_many_measures_fails_on_the_one_that_moved_and_passes_identical_runs(tmp_path, capsys):
    """40 measures of ten processes a side, each process's place drawn anew per cell: identical runs pass (no
    cell beyond the factor), one cell 1.5x slower fails the run alone (p = 1.1e-5 < 0.05 / 40), and a cell
    1.2x slower whose processes overlap the baseline's does not."""
    sizes = {n: 1.0 for n in range(2, 42)}
    made_up_map(tmp_path / "a", sizes, rounds=10, jitter=1)
    made_up_map(tmp_path / "same", sizes, rounds=10, jitter=2)
    made_up_map(tmp_path / "b", {**sizes, 7: 1.5}, rounds=10, jitter=3)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "same"), "--fail-on", "changed",
                 "--results", str(tmp_path / "gate")]) == 0
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on", "slower",
                 "--results", str(tmp_path / "gate2")]) == 1
    out = capsys.readouterr().out
    assert [line.split(":")[1].strip() for line in out.splitlines() if line.startswith("FAIL: threadmap")] == \
        ["threadmap `solve` float64 n = 7 (threading map) at 1 thread(s) (run B)"]


def test_holms_control_passes_the_smallest_p_first_and_stops_at_the_first_that_fails_its_step():
    """Four measures slower beyond the factor with p = 0.001, 0.01, 0.02 and 0.3: Holm at 0.05 asks 0.0125 of the
    first, 0.0167 of the second and 0.025 of the third, so the first two fail and the third, which p < 0.05
    alone would have failed, is open (as is the fourth, which the rule leaves undecided)."""
    from blasbench.results.change import gate

    rows = [{"key": [k], "ratio": 1.5, "p": p, "verdict": "slower" if p < 0.01 else "undecided", "processes": 10}
            for k, p in enumerate((0.001, 0.0099, 0.02, 0.3))]
    found = gate(rows, "slower")
    assert [row["key"] for row in found["failing"]] == [[0], [1]] and [row["key"] for row in found["open"]] == [[2], [3]]
    assert found["status"] == "fail" and found["threshold"] == 0.0125


def test_a_gate_over_no_shared_measure_is_an_error_not_a_pass(tmp_path, capsys):
    made_up_map(tmp_path / "a", {2: 1.0})
    made_up_map(tmp_path / "b", {64: 1.0})
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on", "slower",
                 "--results", str(tmp_path / "gate")]) == 2
    assert "the gate compared no measure: the runs share none" in capsys.readouterr().err


def test_compare_puts_threading_maps_side_by_side(tmp_path):
    """Two machines' maps (one map run twice here): every cell both measured, per thread count."""
    from blasbench.results.compare import compare_dirs

    one_cell_maps(tmp_path, a=1.0, b=3.0)
    comparison = compare_dirs([tmp_path / "a", tmp_path / "b"])
    [row] = comparison["tables"]["threadmap"]
    assert row["key"] == ["`solve` float64 n = 2", "threading map", 1] and row["verdict"] == "slower"


def test_compare_says_per_run_where_threads_hurt_so_a_row_names_the_blas_with_the_pathology(tmp_path):
    """Two BLAS setups' recorded maps (Debian's OpenBLAS and PyPI's wheels, epyc2-zen3-maps-d): each
    run's own verdict per call beside the other's, as its threadmap.md says it."""
    variants = Path(__file__).resolve().parent / "data" / "epyc2-zen3-maps-d" / "variants"
    comparison = compare_dirs([variants / "system-pthread", variants / "pypi"])
    effects = {run["label"]: run["thread_effects"] for run in comparison["runs"]}
    [pypi] = effects["B"]
    assert pypi["threads"] == 2 and pypi["dtype"] == "float64"
    matmul = next(effect for effect in pypi["calls"] if effect["call"] == "a @ b")
    # two rounds a thread count: the rule cannot call it slower (p >= 1/3), it is undecided, as its threadmap.md says
    assert not matmul["hurts"] and 64 in matmul["undecided"]
    report = render_compare(comparison)
    assert "## Where threads hurt, per run" in report
    [row] = [line for line in report.splitlines() if line.startswith("| `a @ b` float64 |")]
    assert row.count("never slower") == 2 and "undecided at n = " in row and "64" in row.split("|")[3]


def test_two_versions_of_a_function_compare_measure_for_measure_and_other_arguments_do_not():
    """A sweep of `work.py:work` before a change and after it (another file hash): the gate's question, so their
    measures share keys; the same function with other arguments is another measure."""
    from blasbench.results.kinds.scaling import sweep_measures

    def sweep(sha: str, args: dict) -> dict:
        workload = {"function": "work", "spec": "work.py:work", "source_sha256": sha * 32, "args": args}
        return {"settings": {"workload": workload},
                "points": [{"rung": "work", "threads": 1, "seconds_per_iteration": 1.0 + 0.01 * r} for r in range(3)]}

    before, after, other = (sweep_measures(sweep(sha, args)) for sha, args in (("ab", {"n": 8}), ("cd", {"n": 8}),
                                                                               ("ab", {"n": 9})))
    assert set(before) == set(after) == {("work", '`work.py:work` {"n": 8}', 1)}
    assert not set(before) & set(other)
