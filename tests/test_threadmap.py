"""The threading map: the calls, a real map of this environment's BLAS at 1 and 2 threads, what the
analysis calls slower or paying, and bad input."""

import json

import numpy as np
import pytest

from blasbench.cli import main
from blasbench.measuring.calls import CALLS, DTYPES, LINE, Memory, aligned
from blasbench.render.threadmap import render_threadmap, threadmap_line
from blasbench.results.kinds.threadmap import analyse_threadmap
from blasbench.results.stats import summarize


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_call_runs_on_operands_of_its_dtype_each_starting_on_a_cache_line(dtype):
    rng = np.random.default_rng(0)
    for call in CALLS.values():
        operands = call.operands(5, dtype, rng)
        assert all(np.asarray(o).dtype == np.dtype(dtype) for o in operands), call.name
        assert all(o.ctypes.data % LINE == 0 and o.flags.c_contiguous for o in operands), call.name
        result = call.run(*operands)
        first = result[0] if isinstance(result, tuple) else result
        assert np.all(np.isfinite(np.asarray(first))), call.name


def test_operands_made_in_the_memory_of_the_cells_before_are_those_fresh_memory_gives():
    """A map's process makes every cell's float64 matrices in the same memory (first touch of fresh memory
    took seconds on a VM): the numbers are those fresh arrays get, and a smaller cell reuses the memory."""
    memory, kept_rng, fresh_rng = Memory(), np.random.default_rng(0), np.random.default_rng(0)
    for n in (64, 8, 64):
        for call in CALLS.values():
            kept, fresh = call.operands(n, "float64", kept_rng, memory), call.operands(n, "float64", fresh_rng)
            assert all(np.array_equal(k, f) and k.ctypes.data % LINE == 0 for k, f in zip(kept, fresh)), call.name
    addresses = [slot.ctypes.data for slot in memory.slots]
    assert len(memory.slots) == Memory.SLOTS and all(slot.size == 64 * 64 for slot in memory.slots)
    CALLS["a @ b"].operands(8, "float64", kept_rng, memory)
    assert [slot.ctypes.data for slot in memory.slots] == addresses


def test_a_size_whose_operands_and_the_kept_float64_memory_would_not_fit_is_refused_before_anything_runs():
    """`a @ b` at n = 4,096 with 800 MiB available: three float32 matrices (192 MiB) fit in half of it; in
    float64 three matrices and the two matrices Memory keeps (640 MiB) do not. A float32-only map keeps no
    float64 memory (counted, its 448 MiB would be refused too)."""
    from blasbench import UserError
    from blasbench.measuring.threadmap import MapSettings, check_sizes

    available = 800 * 2**20
    check_sizes(MapSettings(calls=("a @ b",), dtypes=("float32",), sizes=(4096,)), available)
    with pytest.raises(UserError, match=r"--sizes 4096: `a @ b` in float64 needs 0\.6 GiB, more than half of the 0\.8 GiB"):
        check_sizes(MapSettings(calls=("a @ b",), dtypes=("float32", "float64"), sizes=(4096,)), available)


def test_an_operand_off_a_cache_line_is_moved_onto_one_with_the_same_numbers_and_one_on_a_line_is_kept():
    """NumPy aligns to 16 bytes; the map's operands start on a cache line whatever came before them."""
    matrix = np.random.default_rng(1).standard_normal((64, 64))
    buffer = np.empty(matrix.nbytes + 2 * LINE, dtype=np.uint8)
    start = -buffer.ctypes.data % LINE + 16  # 16 bytes past a line, where a large block from malloc often starts
    off = buffer[start:start + matrix.nbytes].view(matrix.dtype).reshape(matrix.shape)
    off[...] = matrix
    placed = aligned(off)
    assert off.ctypes.data % LINE == 16 and placed.ctypes.data % LINE == 0
    assert np.array_equal(placed, matrix) and placed.shape == (64, 64) and placed.flags.c_contiguous
    assert aligned(placed) is placed


def test_a_cells_count_of_calls_starts_where_the_warm_up_call_says_and_climbs_when_it_was_too_slow():
    """A map's process timed every count of calls from one up to the one lasting a measurement (CELL_SECONDS,
    20 ms): the warm-up call's time says where to start, sparing the counts below."""
    import time

    from blasbench.measuring.worker import time_call

    made = []

    def run(seconds):
        made.append(seconds)
        time.sleep(seconds)

    # 2 ms a call, as the warm-up found: 10 calls range, 10 more measure (the old way made 1 + 2 + 5 + 10 first)
    assert time_call(run, (0.002,), 1, warm_up=0.0025)[0] == 10 and len(made) == 20
    made.clear()  # a warm-up slower than the calls after it: the counts climb from its estimate until one lasts 20 ms
    assert time_call(run, (0.002,), 1, warm_up=0.01)[0] == 10 and len(made) == 2 + 5 + 10 + 10
    made.clear()  # one call as long as a measurement is the measurement, not made again
    number, seconds = time_call(run, (0.025,), 1, warm_up=0.025)
    assert number == 1 and len(made) == 1 and seconds["median"] >= 0.025


def test_a_map_of_this_environment_at_one_and_two_threads_reports_and_resumes(tmp_path, capsys):
    argv = ["threadmap", "--setup", "installed", "--allow-busy", "--calls", "solve,a @ b", "--sizes", "2", "64",
            "--threads", "1,2", "--measurements", "1", "--rounds", "2", "--more-rounds", "0", "--results", str(tmp_path)]
    assert main(argv) == 0
    result = json.loads((tmp_path / "threadmap.json").read_text())
    # two rounds, interleaved: every thread count once, then again
    assert [(run["round"], run["threads"]) for run in result["runs"]] == [(0, 1), (0, 2), (1, 2), (1, 1)]  # counterbalanced
    assert not result["refused"]
    for run in result["runs"]:
        cells = {(c["call"], c["n"]): c for c in run["cells"]}
        assert set(cells) == {(call, n) for call in ("solve", "a @ b") for n in (2, 64)}
        assert all(c["seconds"]["n"] == len(c["seconds"]["values"]) == 1 and c["seconds"]["median"] > 0
                   and c["number"] >= 1 for c in cells.values())
        assert run["identity"]["blas"]
    report = (tmp_path / "threadmap.md").read_text()
    assert "## 2 threads against one, float64: speedup per size" in report and "| `solve` |" in report
    assert (tmp_path / "threadmap.svg").exists() and "[Threading map](threadmap.md)" in (tmp_path / "index.md").read_text()
    capsys.readouterr()
    assert main(argv) == 0  # the same settings on the same identity: nothing measured again
    assert "threading map:" not in capsys.readouterr().out


def cell(call, n, seconds):
    return {"call": call, "dtype": "float64", "n": n, "number": 1, "seconds": {**summarize(seconds), "values": seconds}}


def rounds_of(per_round: list[dict[int, list[float]]], settings: dict) -> dict:
    """A map of `solve` whose round r times size n at 1 and 2 threads as per_round[r][n] = (one, two)."""
    runs = [{"round": r, "threads": threads, "cells": [cell("solve", n, [times[i]]) for n, times in sizes.items()]}
            for r, sizes in enumerate(per_round) for i, threads in enumerate((1, 2))]
    return {"kind": "threadmap", "settings": {**settings, "rounds": len(per_round)}, "refused": [], "environment": None,
            "runs": runs}


SOLVE = {"calls": ["solve"], "dtypes": ["float64"], "sizes": [2, 16, 128, 1024], "threads": [1, 2],
         "measurements": 1, "max_seconds": 1.0}


def test_where_threads_hurt_names_the_sizes_slower_not_every_size_below_and_undecided_asks_for_more_rounds():
    """Slower at n = 128 alone (as `solve` n = 256 on 16 threads of the 16-core example): the advice
    names n = 128, not "up to n = 128" (n = 2 and 16 are not slower); a cell one slow process leaves
    undecided after five rounds asks for more than five."""
    jitter = (1.0, 1.01, 0.99, 1.02, 0.98)
    result = rounds_of([{2: (j, j), 16: (j, (1.3, 1.25, 0.95, 1.28, 1.35)[r]), 128: (j, 1.7 * j), 1024: (j, 0.5 * j)}
                        for r, j in enumerate(jitter)], SOLVE)
    [m] = analyse_threadmap(result)["maps"]
    [row] = m["rows"]
    assert [c["verdict"] for c in row["cells"]] == ["no change", "undecided", "slower", "faster"]
    report = render_threadmap(result, analyse_threadmap(result))
    assert "`solve` (float64) at n = 128 is 1.7x slower on 2 threads than on one" in report
    assert "up to n =" not in report
    assert "more processes decide: `--rounds 10`" in report and "at n = 16 (0.78x)" in report
    assert "slower than one thread for `solve` at n = 128" in threadmap_line(analyse_threadmap(result))


def test_threads_pay_from_the_size_where_they_stay_faster_and_hurt_where_slower_beyond_noise():
    """Five rounds: at n = 2 every process at 2 threads is 3x slower (the pathology); at 16 the processes
    overlap (no change); from 128 on every process is faster."""
    jitter = (1.0, 1.01, 0.99, 1.02, 0.98)
    result = rounds_of([{2: (j, 3 * j), 16: (j, (1.05, 0.9, 1.1, 0.95, 1.0)[r]), 128: (j, 0.6 * j), 1024: (j, 0.52 * j)}
                        for r, j in enumerate(jitter)], SOLVE)
    [m] = analyse_threadmap(result)["maps"]
    [row] = m["rows"]
    assert [c["verdict"] for c in row["cells"]] == ["slower", "no change", "faster", "faster"]
    assert row["pays_from"] == 128 and [c["n"] for c in row["hurts"]] == [2]
    report = render_threadmap(result, analyse_threadmap(result))
    assert "`solve` (float64) at n = 2 is 3.0x slower on 2 threads than on one" in report
    assert "threadpool_limits(1)" in report and "| `solve` | 0.33x **↓** | 1.00x | 1.67x ↑ | 1.92x ↑ | 128 | 2 |" in report
    assert "`OMP_NUM_THREADS=1`" in report  # no BLAS known: the variable every library reads
    blis = {"user_api": "blas", "internal_api": "blis", "num_threads": 2, "version": "0.9.0", "threading_layer": "pthreads",
            "filepath": "/usr/lib/libblis.so.4"}
    result["environment"] = {"threadpool_info": [blis]}
    assert "run a program made of them with `BLIS_NUM_THREADS=1`" in render_threadmap(result, analyse_threadmap(result))


def test_a_process_that_happened_to_run_slower_is_one_sample_not_a_thread_effect():
    """Two maps of one build 3 minutes apart once disagreed at the smallest sizes: each thread count
    was one process, its measurements taken as independent. The rule takes one value per process:
    one slow process among five at 2 threads is not "slower"; a map of one round per thread count
    knows no noise, however far apart its measurements are."""
    slow_once = rounds_of([{2: (1.0, 3.0 if r == 3 else 1.0 + 0.01 * r)} for r in range(5)], {**SOLVE, "sizes": [2]})
    [cell_] = analyse_threadmap(slow_once)["maps"][0]["rows"][0]["cells"]
    assert cell_["verdict"] == "no change"
    one_round = {**slow_once, "settings": {**slow_once["settings"], "rounds": 1},
                 "runs": [slow_once["runs"][0], {**slow_once["runs"][7], "round": 0}]}
    assert [c["verdict"] for c in analyse_threadmap(one_round)["maps"][0]["rows"][0]["cells"]] == ["noise unknown"]


def test_a_cell_beyond_the_factor_whose_processes_overlap_is_undecided_and_marked():
    two = (0.8, 0.9, 1.0, 1.1, 1.5)  # median 1.0 against one thread's 1.2: a speedup of 1.2x, the processes overlapping
    overlapping = rounds_of([{2: (1.0 + 0.1 * r, two[r])} for r in range(5)], {**SOLVE, "sizes": [2]})
    analysis = analyse_threadmap(overlapping)
    [cell_] = analysis["maps"][0]["rows"][0]["cells"]
    assert cell_["verdict"] == "undecided" and cell_["speedup"] > 1.10
    assert " ? |" in render_threadmap(overlapping, analysis)


def made_up_processes(monkeypatch, seconds: dict) -> list:
    """The map's processes replaced by made-up ones: ``seconds[threads, n](round)`` is `solve`'s time at
    n, and each process takes one second of a made-up clock. What each process was asked for, in order."""
    import subprocess
    from types import SimpleNamespace

    from blasbench.measuring import threadmap

    asked, clock = [], [0.0]

    def fake_run_fresh(command, env):
        threads, wanted = int(env["OPENBLAS_NUM_THREADS"]), None
        if "--cells" in command:
            wanted = {tuple(c) for c in json.loads(command[command.index("--cells") + 1])}
        round_ = sum(1 for t, _ in asked if t == threads)
        asked.append((threads, wanted))
        clock[0] += 1.0
        cells = [cell("solve", n, [seconds[threads, n](round_)]) for n in (2, 64)
                 if wanted is None or ("solve", "float64", n) in wanted]
        blas = {"user_api": "blas", "internal_api": "openblas", "num_threads": threads, "filepath": "/made/up.so"}
        out = json.dumps({"cells": cells, "environment": {"threadpool_info": [blas]}})
        return subprocess.CompletedProcess(command, 0, out, "")

    monkeypatch.setattr(threadmap, "run_fresh", fake_run_fresh)
    monkeypatch.setattr(threadmap, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    return asked


def test_further_rounds_measure_the_undecided_cells_alone_and_decide_them_on_their_own_processes(monkeypatch, tmp_path):
    """Made-up processes: `solve` n = 64 is 2x faster on 2 threads in every round (decided in five); n = 2
    is 1.25x faster but one round of five ran as slow as one thread, so five rounds leave it undecided (p = 0.016):
    five further rounds measure n = 2 alone, at 1 and 2 threads, every other round in reverse order, and their five
    fresh processes a side decide it faster (p = 0.0079) on their own."""
    from blasbench.measuring.threadmap import MapSettings, run_threadmap

    asked = made_up_processes(monkeypatch, {
        (1, 2): lambda r: 1.0 + 0.001 * r, (2, 2): lambda r: 1.0005 if r == 1 else 0.8 + 0.001 * r,
        (1, 64): lambda r: 1.0 + 0.001 * r, (2, 64): lambda r: 0.5 + 0.001 * r})
    settings = MapSettings(calls=("solve",), sizes=(2, 64), threads=(1, 2), rounds=5, more_rounds=5, more_time=1.0)
    result = run_threadmap(settings, tmp_path / "threadmap.json")
    n2 = {("solve", "float64", 2)}
    assert [threads for threads, _ in asked[:10]] == [1, 2, 2, 1, 1, 2, 2, 1, 1, 2]
    assert asked[10:] == [(2, n2), (1, n2), (1, n2), (2, n2), (2, n2), (1, n2), (1, n2), (2, n2), (2, n2), (1, n2)]
    [row] = analyse_threadmap(result)["maps"][0]["rows"]
    cells = {c["n"]: c for c in row["cells"]}
    assert (cells[2]["verdict"], cells[2]["decided_by"], cells[2]["processes"]) == ("faster", "further rounds", 5)
    assert (cells[64]["verdict"], cells[64]["decided_by"], cells[64]["processes"]) == ("faster", "rounds", 5)
    assert [len(cells[n]["one"]["processes"]) for n in (2, 64)] == [10, 5]


def test_further_rounds_never_pool_their_processes_with_the_rounds(monkeypatch, tmp_path):
    """n = 2 on 2 threads: 0.8 s in four rounds of five and 1.0005 s in one (undecided, p = 0.016); in the further
    rounds 0.8 s in four and 1.2 s in one. Pooled, ten processes a side would pass the test (p = 0.0036, the
    optional stopping a second look invites); the fresh five alone do not (p = 0.15), so the cell stays undecided."""
    from blasbench.measuring.threadmap import MapSettings, run_threadmap
    from blasbench.results.change import decide

    two = {0: 0.8, 1: 1.0005, 2: 0.801, 3: 0.802, 4: 0.803, 5: 0.804, 6: 1.2, 7: 0.805, 8: 0.806, 9: 0.807}
    made_up_processes(monkeypatch, {
        (1, 2): lambda r: 1.0 + 0.001 * r, (2, 2): lambda r: two[r],
        (1, 64): lambda r: 1.0 + 0.001 * r, (2, 64): lambda r: 0.5 + 0.001 * r})
    settings = MapSettings(calls=("solve",), sizes=(2, 64), threads=(1, 2), rounds=5, more_rounds=5, more_time=1.0)
    result = run_threadmap(settings, tmp_path / "threadmap.json")
    [row] = analyse_threadmap(result)["maps"][0]["rows"]
    cell = next(c for c in row["cells"] if c["n"] == 2)
    assert decide(cell["one"]["processes"], cell["many"]["processes"])["verdict"] == "faster"  # the pooled ten
    assert (cell["verdict"], cell["decided_by"]) == ("undecided", "further rounds")


def test_further_rounds_stop_when_they_have_taken_their_share_of_the_rounds_time(monkeypatch, tmp_path, capsys):
    """n = 2 at 2 threads runs 0.8 s in even rounds and 1.5 s in odd ones against one thread's 1.0: its medians
    stay beyond the factor and the test never decides. The ten processes of the five rounds took 10 s (one
    each), so the further rounds may take 2.5 s: three processes, not the ten that five further rounds allow."""
    from blasbench.measuring.threadmap import MapSettings, run_threadmap

    asked = made_up_processes(monkeypatch, {
        (1, 2): lambda r: 1.0 + 0.001 * r, (2, 2): lambda r: 0.8 if r % 2 == 0 else 1.5,
        (1, 64): lambda r: 1.0 + 0.001 * r, (2, 64): lambda r: 0.5 + 0.001 * r})
    settings = MapSettings(calls=("solve",), sizes=(2, 64), threads=(1, 2), rounds=5, more_rounds=5, more_time=0.25)
    result = run_threadmap(settings, tmp_path / "threadmap.json")
    assert len(asked) == 13 and all(wanted == {("solve", "float64", 2)} for _, wanted in asked[10:])
    assert "the further rounds have taken their 25% of the rounds' time (3.0 s of 2.5 s); 1 cell(s) stay undecided" \
        in capsys.readouterr().out
    assert sum(run["seconds"] for run in result["runs"]) == 13.0
    [row] = analyse_threadmap(result)["maps"][0]["rows"]
    assert {c["n"]: c["verdict"] for c in row["cells"]} == {2: "undecided", 64: "faster"}


@pytest.mark.parametrize("sizes, message", [
    ([], "--sizes needs one or more positive sizes"),
    (["-4"], "--sizes needs one or more positive sizes"),
    (["200000"], "--sizes 200000: `svd` in float64 needs"),
])
def test_bad_sizes_are_one_line_before_anything_runs(sizes, message, tmp_path, capsys):
    assert main(["threadmap", "--setup", "installed", "--sizes", *sizes, "--results", str(tmp_path / "r")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "r" / "threadmap.json").exists()


def test_a_numpy_only_map_leaves_out_scipys_calls_and_refuses_one_asked_for(tmp_path, capsys):
    from blasbench.cli import build_parser
    from blasbench.commands.threadmap import chosen_calls

    args = build_parser().parse_args(["threadmap", "--setup", "system+numpy-only"])
    assert chosen_calls(args) == tuple(name for name, call in CALLS.items() if call.package == "numpy")
    assert "lu_factor" not in chosen_calls(args) and "solve" in chosen_calls(args)
    assert main(["threadmap", "--setup", "system+numpy-only", "--calls", "solve", "lu_factor",
                 "--results", str(tmp_path / "r")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["error: +numpy-only has no SciPy, which lu_factor needs: drop +numpy-only or those calls."]
    assert not (tmp_path / "r" / "threadmap.json").exists()
