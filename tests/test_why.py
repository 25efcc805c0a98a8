"""The why-scaling-stops experiments, run for real on this environment's NumPy."""

import sys

import pytest

from blasbench import provenance
from blasbench.facts import LIMIT_CONDITIONS
from blasbench.measuring.sweep import Workload
from blasbench.measuring.why import BUFFER_RUNG, WhySettings, run_why, runtime_limits
from blasbench.render.scaling import render_why
from blasbench.results.kinds.why import analyse_why


def test_every_way_of_asking_for_one_thread_is_probed_in_a_fresh_process():
    rows = {row["condition"]: row for row in runtime_limits(sys.executable, size=128)}
    assert list(rows) == list(LIMIT_CONDITIONS)
    # a pthreads OpenBLAS (PyPI's, in the test session): every limit reaches it; "no limit" sets none
    assert rows["no limit"]["reported_threads"] == provenance.usable_cores()
    assert rows["no limit"]["honoured"] is None
    for setup, row in rows.items():
        if setup != "no limit":
            assert row["reported_threads"] == 1, setup
            assert row["dgemm"]["gflops"] > 0


def test_an_experiment_is_measured_again_only_when_its_own_settings_change(tmp_path):
    path = tmp_path / "why.json"
    settings = WhySettings(threads=1, dgemm_size=64)
    first = run_why(settings, ["limits"], path)["experiments"]["limits"]
    measured_at = path.stat().st_mtime_ns
    # the sizes grid is not a setting of `limits`: nothing to measure again
    run_why(WhySettings(threads=1, dgemm_size=64, hidden_sizes=(10,)), ["limits"], path)
    assert path.stat().st_mtime_ns == measured_at
    again = run_why(WhySettings(threads=1, dgemm_size=96), ["limits"], path)["experiments"]["limits"]
    assert first["settings"] == {"dgemm_size": 64} and again["settings"] == {"dgemm_size": 96}


@pytest.mark.slow
def test_temporaries_page_fault_and_reuse_or_a_kept_heap_avoids_it(tmp_path):
    """2 CG iterations on the seed's 50,000 examples: its 117 MB temporaries are above any
    mmap threshold glibc accepts, so every evaluation faults them in again. (The other experiments
    run at the quick sweep's sizes in test_scaling_quick_end_to_end.)"""
    settings = WhySettings(threads=provenance.usable_cores(), repeats=1, workload=Workload(iterations=2))
    results = run_why(settings, ["malloc"], tmp_path / "why.json")
    rows = {(r["condition"], r["threads"]): r for r in results["experiments"]["malloc"]["rows"]}
    threads = settings.threads
    defaults = rows["glibc defaults", threads]["minor_page_faults"]
    kept_heap = next(r for (setup, t), r in rows.items() if setup.startswith("MALLOC_MMAP_MAX_=0") and t == threads)
    reuse = rows[f"buffer reuse ({BUFFER_RUNG})", threads]
    assert kept_heap["minor_page_faults"] < defaults / 2
    assert reuse["minor_page_faults"] < defaults / 2
    assert "mapped and unmapped" in "\n\n".join(render_why(results, analyse_why(results), []))


def test_a_limit_whose_compute_took_effect_while_idle_threads_spun_says_exactly_that():
    """threadpoolctl's limit with both cores busy but its DGEMM at the one-thread rate (seen on a
    2-core Zen 4) was reported as "not honoured"; the compute was limited and idle threads spun."""
    import copy
    from pathlib import Path

    from blasbench.results.kinds import read_result
    from blasbench.results.kinds.variant import limit_effect

    why = read_result(Path(__file__).parent / "data" / "epyc2-a" / "why.json", "why")  # a version 8 file, migrated
    rows = why["experiments"]["limits"]["rows"]
    spinning = next(r for r in rows if r["condition"].startswith("threadpoolctl"))
    spinning.update(honoured=False, dgemm={**spinning["dgemm"], "cpu_per_wall": 2.0, "gflops": 51.4})
    ignored = copy.deepcopy(spinning)
    ignored.update(condition="OMP_NUM_THREADS=1", dgemm={**ignored["dgemm"], "gflops": 99.0})
    rows = [r for r in rows if r["condition"] != "OMP_NUM_THREADS=1"] + [ignored]
    assert [limit_effect(r, rows) for r in (spinning, ignored)] == ["compute only", "ignored"]
    assert limit_effect(rows[0], rows) is None and limit_effect(rows[1], rows) == "honoured"
    why["experiments"] = {"limits": {**why["experiments"]["limits"], "rows": rows}}
    text = "\n".join(render_why(why, analyse_why(why), []))
    assert "the DGEMM ran at the one-thread rate, while idle threads kept the other cores busy spinning" in text
    assert "| OMP_NUM_THREADS=1 | 1 | 2.00 | 99.0 | **no** |" in text
