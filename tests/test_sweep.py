"""The sweeps on a small real workload: limits, resumption, interruption, reports from data."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from blasbench.measuring import sweep
from blasbench.render import render_all
from blasbench.results import stats
from blasbench.results.directory import Results
from blasbench.results.seed import seed_scaling
from blasbench.store import read_json

TINY = sweep.Workload(iterations=2, train_size=1000)


def test_stats_on_known_numbers():
    s = stats.summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["median"] == 3.0 and s["q1"] == 2.0 and s["q3"] == 4.0 and s["iqr"] == 2.0
    # T(p) = 10 + 90/p exactly: 10% serial
    threads = [1, 2, 4, 8]
    fit = stats.amdahl_fit(threads, [10 + 90 / p for p in threads])
    assert fit["serial_fraction"] == pytest.approx(0.1) and fit["t1"] == pytest.approx(100)
    assert stats.amdahl_limit(fit["serial_fraction"]) == pytest.approx(10)
    assert stats.karp_flatt(100 / 55, 2) == pytest.approx(0.1)


def test_use_n_threads_is_the_rules_verdict_and_a_step_it_cannot_decide_is_provisional():
    """Each step is taken when its medians cut 10% per added thread and the rule calls it faster: 5 repeats a
    side wholly apart decide it (p = 0.008); 3 a side never can (p >= 0.1): the step is taken as the medians
    say, and listed as undecided."""
    five = [[10.0 + 0.01 * r for r in range(5)], [5.5 + 0.01 * r for r in range(5)], [4.5 + 0.01 * r for r in range(5)]]
    assert stats.recommend([1, 2, 4], five) == {"threads": 2, "undecided": []}  # 2 -> 4: 18%, less than 10% a thread
    assert stats.recommend([1, 2], [[10.0 + 0.01 * r for r in range(5)], [9.5 + 0.01 * r for r in range(5)]]) == \
        {"threads": 1, "undecided": []}  # 5% for one more thread does not pay, however sure
    three = stats.recommend([1, 2], [[10.0, 10.1, 10.2], [5.5, 5.6, 5.7]])
    assert three["threads"] == 2 and three["undecided"] == [{"from": 1, "to": 2, "verdict": "undecided", "p": 0.1,
                                                               "repeats": 3}]
    overlapping = stats.recommend([1, 2], [[10.0, 10.1, 4.0, 10.2, 10.3], [5.5, 5.6, 5.7, 11.0, 5.8]])
    assert overlapping["threads"] == 2 and overlapping["undecided"][0]["verdict"] == "undecided"

def test_seed_figures_travel_with_the_package():
    seed = seed_scaling()
    assert seed["threads"] == list(range(1, 11))
    assert seed["speedup"][4] == pytest.approx(143.22 / 51.223)


def test_limit_problem_refuses_points_whose_limit_did_not_take():
    def result(blas_threads, numexpr_threads, layer="pthreads"):
        return {"environment": {"threadpool_info": [{"internal_api": "openblas", "num_threads": blas_threads,
                                                     "threading_layer": layer, "filepath": "/lib/libopenblas.so"}],
                                "numexpr_threads": numexpr_threads}}
    assert sweep.limit_problem(result(2, 2), 2) is None
    assert "openblas ran 4 threads, not 2" in sweep.limit_problem(result(4, 2), 2)
    assert "numexpr ran 1 threads" in sweep.limit_problem(result(2, 1), 2)
    assert "openblas ran 1 threads" in sweep.limit_problem(result(1, 2), 2)
    # a serial OpenBLAS runs one thread by design: the point measures what that build does
    assert sweep.limit_problem(result(1, 2, layer="disabled"), 2) is None


def test_child_runs_with_every_thread_variable_set():
    result = sweep.run_child(TINY, "3-numexpr", threads=1)
    assert sweep.limit_problem(result, 1) is None
    assert result["options"]["iterations"] == 2 and result["evaluations"] >= 2
    assert result["cpu_seconds"]["user"] > 0


def test_scaling_sweep_resumes_and_reports(tmp_path):
    settings = sweep.ScalingSettings(rungs=("3-numexpr",), threads=(1, 2), repeats=1, workload=TINY, warmup=False)
    path = tmp_path / "scaling.json"
    first = sweep.run_scaling(settings, path)
    assert [(p["threads"], p["repeat"]) for p in first["points"]] == [(1, 0), (2, 0)]
    measured_at = path.stat().st_mtime_ns
    again = sweep.run_scaling(settings, path)  # nothing left to measure
    assert again["points"] == first["points"] and path.stat().st_mtime_ns == measured_at
    written = render_all(Results.load(tmp_path))
    assert {p.name for p in written} >= {"scaling.md", "scaling.svg", "index.md"}
    text = (tmp_path / "scaling.md").read_text()
    assert "## `3-numexpr`" in text and "seed speedup" in text and "Recommendation" in text
    assert "Scaling" in (tmp_path / "index.md").read_text()


def test_ctrl_c_keeps_finished_points_and_a_rerun_continues(tmp_path):
    path = tmp_path / "scaling.json"
    script = (
        # The child sets the disposition this test relies on: a shell without job control (nohup, a
        # scheduler, a CI runner) starts it with SIGINT ignored, and the product rightly keeps that.
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from pathlib import Path; from blasbench.measuring import sweep\n"
        f"settings = sweep.ScalingSettings(rungs=('3-numexpr',), threads=(1, 2), repeats=3, "
        f"workload=sweep.Workload(iterations=2, train_size=1000), warmup=False)\n"
        f"sweep.run_scaling(settings, Path({str(path)!r}))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (path.exists() and read_json(path)["points"]):
        time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    child.wait(timeout=60)
    kept = read_json(path)["points"]
    assert 1 <= len(kept) < 6
    settings = sweep.ScalingSettings(rungs=("3-numexpr",), threads=(1, 2), repeats=3, workload=TINY, warmup=False)
    finished = sweep.run_scaling(settings, path)
    assert finished["points"][:len(kept)] == kept and len(finished["points"]) == 6


def test_profile_sweep_finds_sigmoid_and_products(tmp_path):
    from blasbench.measuring.profiles import run_profiles

    results = run_profiles(["0-seed", "5-fused-buffers"], TINY, None, tmp_path / "profile.json")
    for rung in results["rungs"]:
        assert (tmp_path / rung["prof"]).exists()
        profile = rung["cprofile"]
        assert profile["sigmoid"] > 0 and profile["products"] > 0
        assert profile["sigmoid"] + profile["products"] < profile["total"]
    render_all(Results.load(tmp_path))
    text = (tmp_path / "profile.md").read_text()
    assert "sigmoid 54.5%, dot 37.3%" in text and "snakeviz" in text


def test_report_renders_again_from_json_alone(tmp_path):
    """`nox -s report`: the JSON is enough, nothing is rerun."""
    settings = sweep.ScalingSettings(rungs=("0-seed",), threads=(1,), repeats=1, workload=TINY, warmup=False)
    sweep.run_scaling(settings, tmp_path / "scaling.json")
    render_all(Results.load(tmp_path))
    (tmp_path / "scaling.md").unlink()
    run = subprocess.run([sys.executable, "-m", "blasbench", "report", "--results", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "scaling.md").exists()
    assert json.loads((tmp_path / "scaling.json").read_text())["points"][0]["threads"] == 1


def test_results_of_other_settings_are_moved_aside_not_lost(tmp_path, capsys):
    path = tmp_path / "scaling.json"
    earlier = {"kind": "scaling", "settings": {"variants": ["3-numexpr"], "threads": [1]},
               "points": [{"variant": "3-numexpr", "threads": 1}], "refused": []}  # version 1: no identity
    path.write_text(json.dumps(earlier))
    settings = sweep.ScalingSettings(rungs=("3-numexpr",), threads=(1,), repeats=1, workload=TINY, warmup=False)
    sweep.run_scaling(settings, path)
    [aside] = [p for p in tmp_path.glob("scaling-*.json")]
    assert json.loads(aside.read_text()) == earlier
    assert "measured with other settings and identity: moved to " + aside.name in capsys.readouterr().err
    assert read_json(path)["settings"]["rungs"] == ["3-numexpr"]


@pytest.mark.slow
def test_signal_tests_pass_when_the_suite_starts_with_sigint_ignored():
    """As under `nohup ... &` or a batch scheduler: SIGINT ignored, no standard input, no terminal."""
    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.setsid()

    env = {k: v for k, v in os.environ.items() if k != "TERM"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::"
                          "test_ctrl_c_keeps_finished_points_and_a_rerun_continues"], preexec_fn=ignore_sigint,
                         stdin=subprocess.DEVNULL, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout


def test_a_child_imports_its_environments_package_not_the_callers_directory(tmp_path, monkeypatch):
    """`python -m` puts the current directory first on sys.path: a child started from a directory that
    holds a `blasbench/` (a clone, when several setups side by side run another environment's python) imported
    those sources instead of the package installed in its own environment."""
    from blasbench.measuring.sweep import current_identity

    shadow = tmp_path / "blasbench"
    shadow.mkdir()
    (shadow / "__init__.py").write_text('raise ImportError("the caller\'s directory was imported")\n')
    monkeypatch.chdir(tmp_path)
    identity = current_identity(sys.executable)
    assert identity["wheels"]["numpy"] and identity["workload_source"]
