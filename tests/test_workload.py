"""A user's function as the workload (`scaling --workload FILE.py:FUNCTION`): timed per call in a
fresh process per point, its answer compared across thread counts, bad input one line."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from blasbench import UserError
from blasbench.cli import main
from blasbench.measuring.sweep import ScalingSettings, run_scaling
from blasbench.measuring.workload import parse_workload
from blasbench.render.scaling import render_scaling
from blasbench.results.kinds import read_result
from blasbench.results.kinds.scaling import analyse_scaling

ROOT = Path(__file__).resolve().parent.parent


def workload_file(tmp_path, body: str) -> Path:
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\n" + body)
    return path


@pytest.mark.parametrize("argv, message", [
    (["--workload", "missing.py:f"], "no file"),
    (["--workload", "examples/small_solves.py:nothing"], "defines no function nothing"),
    (["--workload", "examples/small_solves.py"], "write FILE.py:FUNCTION, FILE.py:FUNCTION@REV"),
    (["--workload", "no_such_module:f"], "no module no_such_module importable"),
    (["--workload", "examples/small_solves.py:solve_many", "--workload-args", "{n: 3}"], "is not JSON"),
    (["--workload", "examples/small_solves.py:solve_many", "--workload-args", "[3]"], "must be a JSON object"),
    (["--workload", "examples/small_solves.py:solve_many@"], "FILE.py:FUNCTION@REV (the file at a git commit)"),
    (["--workload", "examples/small_solves.py:solve_many@no-such-revision"], "git knows no commit 'no-such-revision'"),
    (["--workload", "no_such_module:f@HEAD"], "@REV takes a file from git"),
    (["--workload", "nn", "examples/small_solves.py:solve_many"], "nn is swept by its rungs (--rungs), not beside functions"),
    (["--workload", "examples/small_solves.py:solve_many", "examples/small_solves.py:solve_many"], "named twice"),
    (["--setup", "system", "blis", "--workload", "examples/small_solves.py:solve_many", "examples/large_matmul.py:matmul"],
     "several workloads are swept on one setup"),
])
def test_a_workload_that_cannot_be_found_is_one_line_naming_the_fix(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["scaling", *argv, "--results", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not list((tmp_path / "r").glob("*"))  # refused before anything was built or written


def sweep(tmp_path, body: str, threads=(1, 2), args: str | None = None, repeats: int = 1) -> tuple[dict, Path]:
    return sweep_file(tmp_path, workload_file(tmp_path, body), threads, args, repeats)


def sweep_file(tmp_path, path: Path, threads=(1, 2), args: str | None = None, repeats: int = 1) -> tuple[dict, Path]:
    workload = parse_workload(f"{path}:work", args)
    results = tmp_path / "scaling.json"
    settings = ScalingSettings(rungs=("work",), threads=threads, repeats=repeats, workload=workload, warmup=False)
    return run_scaling(settings, results), results


FAULTS = Path(__file__).parent / "faults"


def test_a_function_is_timed_per_call_and_its_answer_compared_across_threads(tmp_path):
    result, path = sweep(tmp_path, "def setup(n=64):\n    return np.random.default_rng(0).standard_normal((n, n))\n\n"
                                   "def work(a, n=64):\n    return a @ a, float(a.sum())\n", args='{"n": 80}')
    assert [(p["threads"], p["answer"]["verdict"]) for p in result["points"]] == [(1, "the reference"), (2, "bit-identical")]
    first = result["points"][0]
    assert first["number"] >= 1 and 1e-6 < first["wall"] < 1 and [part["shape"] for part in first["answer"]["parts"]] == [
        [80, 80], []]
    assert result["settings"]["workload"]["args"] == {"n": 80} and len(result["settings"]["workload"]["source_sha256"]) == 64
    text = scaling_page(read_result(path, "scaling"))
    assert "### Does threading change the answer?" in text and "| 2 | 0 | float64 (80, 80)" in text


def test_an_answer_that_changes_with_threads_is_shown_with_how_far(tmp_path):
    """The answer here changes with the thread count, as a threaded reduction's order may (large enough
    to take microseconds per call on a fast CPU: 3 elements took 954 ns on a Sapphire Rapids, refused as untimeable)."""
    result, path = sweep(tmp_path, "import os\n\ndef work():\n"
                                   "    return np.full(100_000, 1.0 + 1e-9 * int(os.environ['OMP_NUM_THREADS']))\n",
                         repeats=2)
    at_two = [p["answer"] for p in result["points"] if p["threads"] == 2]
    assert all(a["verdict"] == "differs" and a["max_relative_difference"] == pytest.approx(1e-9, rel=1e-3) for a in at_two)
    assert "**Here they changed the answer** (at 2 threads, by up to 1.0e-09), while the repeats at 1 thread(s) agree" \
        in scaling_page(read_result(path, "scaling"))


def test_an_answer_that_changes_on_every_call_is_not_blamed_on_threads(tmp_path):
    """Fresh random numbers each call: the repeats at one thread already differ, so the difference at
    two threads is not the threads' (it read "here they changed the answer")."""
    result, path = sweep_file(tmp_path, FAULTS / "random_answer.py", repeats=2)
    text = scaling_page(read_result(path, "scaling"))
    assert "the answer is **not deterministic**: it differs between repeats at 1 thread(s)" in text
    assert "they changed the answer" not in text


def test_with_one_repeat_a_difference_at_more_threads_is_not_pinned_on_them(tmp_path):
    result, path = sweep_file(tmp_path, FAULTS / "random_answer.py")
    text = scaling_page(read_result(path, "scaling"))
    assert "with one repeat per thread count nothing tells the threads from a function whose answer changes" in text


def test_a_function_that_limits_its_own_threads_says_the_threads_went_unused(tmp_path):
    result, path = sweep_file(tmp_path, FAULTS / "limits_itself.py")
    text = scaling_page(read_result(path, "scaling"))
    rows = [line for line in text.splitlines() if line.startswith("| 2 |")]
    assert re.search(r"\*\*Threads unused at 2:\*\* the process kept [01]\.\d\d cores busy", text), rows
    assert "not a measure of threading" in text


def test_a_function_that_spends_its_time_printing_says_the_time_is_not_the_blas(tmp_path):
    result, path = sweep_file(tmp_path, FAULTS / "prints.py")
    assert "**Not the BLAS's time at 1 thread(s):** the system time" in scaling_page(read_result(path, "scaling"))


def test_a_helper_mapped_over_a_process_pool_pickles_as_in_the_users_own_run(tmp_path):
    """The file is imported under its own module name: a helper it maps over multiprocessing.Pool is
    pickled by that name (it failed with PicklingError: not the same object as mine._row_norm)."""
    result, _ = sweep_file(tmp_path, FAULTS / "pool.py", threads=(1,))
    assert [p["answer"]["verdict"] for p in result["points"]] == ["the reference"]


@pytest.mark.parametrize("fault, message", [
    ("exits", "work at 1 thread(s) failed: the process exited (code 3) without a result: the function, or a library "
              "it calls, ended it"),
    ("crashes", "work at 1 thread(s) failed: the process was killed by SIGSEGV"),
])
def test_a_function_that_ends_or_crashes_its_process_is_named_in_one_line(fault, message, tmp_path):
    with pytest.raises(UserError) as error:
        sweep_file(tmp_path, FAULTS / f"{fault}.py")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_function_that_raises_names_the_point_and_keeps_what_was_measured(tmp_path):
    body = ("import os\n\ndef work():\n    if os.environ['OMP_NUM_THREADS'] == '2':\n"
            "        raise ValueError('singular at 2')\n    return np.ones(4) * 2\n")
    with pytest.raises(UserError, match=r"work at 2 thread\(s\) failed: ValueError: singular at 2"):
        sweep(tmp_path, body)
    kept = read_result(tmp_path / "scaling.json", "scaling")
    assert [p["threads"] for p in kept["points"]] == [1]


@pytest.mark.parametrize("body, message", [
    ("def work():\n    return 1\n", "takes under a microsecond per call"),
    ("import time\n\ndef work():\n    time.sleep(0.3)\n", "over --max-seconds 0.1"),
])
def test_a_function_too_fast_or_too_slow_to_time_is_refused_in_one_line(tmp_path, body, message):
    path = workload_file(tmp_path, body)
    workload = parse_workload(f"{path}:work", max_seconds=0.1)
    settings = ScalingSettings(rungs=("work",), threads=(1,), repeats=1, workload=workload, warmup=False)
    with pytest.raises(UserError, match=message):
        run_scaling(settings, tmp_path / "scaling.json")


def test_an_answer_that_cannot_be_summarised_is_named_and_its_timing_kept(tmp_path):
    result, _ = sweep(tmp_path, "def work():\n    return {'x': np.ones(1000).sum()}\n", threads=(1,))
    assert result["points"][0]["answer"] == {"unsummarised": "dict"} and result["points"][0]["wall"] > 0


def test_an_edited_workload_is_measured_afresh_and_the_old_results_moved_aside(tmp_path, capsys):
    body = "def work():\n    return np.ones(10_000).cumsum()\n"
    sweep(tmp_path, body, threads=(1,))
    result, _ = sweep(tmp_path, body + "# edited\n", threads=(1,))
    assert len(result["points"]) == 1 and "moved to scaling-" in capsys.readouterr().err
    assert len(list(tmp_path.glob("scaling-*.json"))) == 1
    json.loads((tmp_path / "scaling.json").read_text())


def test_two_sweeps_of_a_function_compare_side_by_side(tmp_path):
    from blasbench.results.compare import compare_dirs

    path = workload_file(tmp_path, "def work():\n    return np.ones(20_000).cumsum()\n")
    workload = parse_workload(f"{path}:work")
    for name in ("a", "b"):  # the same function, measured twice: two runs of one machine
        settings = ScalingSettings(rungs=("work",), threads=(1,), repeats=1, workload=workload, warmup=False)
        run_scaling(settings, tmp_path / name / "scaling.json")
    comparison = compare_dirs([tmp_path / "a", tmp_path / "b"])
    [row] = comparison["tables"]["scaling"]
    assert row["key"][0] == "work" and row["key"][1].startswith("`") and "mine.py:work`" in row["key"][1]


def test_a_functions_profile_names_where_its_time_goes(tmp_path):
    from blasbench.commands.scaling import profile_function

    body = ("def setup(n=200):\n    return np.random.default_rng(0).standard_normal((n, n))\n\n"
            "def inner(a):\n    return np.linalg.inv(a)\n\ndef work(a, n=200):\n    return inner(a)\n")
    path = workload_file(tmp_path, body)
    workload = parse_workload(f"{path}:work")
    settings = ScalingSettings(rungs=("work",), threads=(1,), repeats=1, workload=workload, warmup=False)
    sweep = run_scaling(settings, tmp_path / "scaling.json")
    profile_function(settings, sweep, tmp_path / "scaling.json")
    result = read_result(tmp_path / "scaling.json", "scaling")
    names = [f["function"] for f in result["profile"]["functions"]]
    assert any(name.startswith("mine.py:") and name.endswith("(inner)") for name in names), names
    assert (tmp_path / "profile" / "work.prof").exists()
    assert "### Where the time goes (cProfile)" in scaling_page(result)


def scaling_page(result: dict) -> str:
    """scaling.md of one sweep, as its kind's analysis found it."""
    return render_scaling(result, analyse_scaling(result))


def test_a_functions_provenance_names_its_files_hash_and_a_run_outside_a_clone_says_so():
    """A function's sweep run from an installed package: the provenance line shows the function file's
    sha256 (not the network's source hash it also recorded) and "commit unknown", not `None`."""
    from blasbench.render.format import provenance_lines

    env = {"date": "2026-12-04", "host": "vm", "git_commit": None, "workload_source": "0" * 64, "cpu": {}}
    workload = {"function": "work", "spec": "faulty.py:work", "source_sha256": "ab" * 32}
    line = provenance_lines(env, [1, 2], workload).splitlines()[0]
    assert "commit unknown (not run from a clone)" in line and "None" not in line
    assert "function `faulty.py:work`, its file's sha256 `abababababab`" in line and "000000" not in line


def committed(tmp_path, *versions: str) -> Path:
    """A git repository ``tmp_path/repo`` whose mine.py was committed in each of ``versions`` in turn; the
    working tree holds the last."""
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*words):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *words], check=True,
                       capture_output=True)

    git("init", "-q")
    for version in versions:
        path = workload_file(repo, version)
        git("add", "mine.py")
        git("commit", "-q", "-m", "a version")
    return path


def test_a_file_at_a_git_revision_is_that_version_and_keys_as_the_same_function(tmp_path):
    path = committed(tmp_path, "def work():\n    return 1.0\n", "def work():\n    return 2.0\n")
    before, now = parse_workload(f"{path}:work@HEAD~1"), parse_workload(f"{path}:work")
    assert before.spec == now.spec == f"{path}:work" and re.fullmatch(r"[0-9a-f]{40}", before.revision) and not now.revision
    assert b"return 1.0" in Path(before.source).read_bytes() and before.source_sha256 != now.source_sha256
    assert before.path == str(path.parent)  # its neighbours import from the working tree
    outside = workload_file(tmp_path, "def work():\n    return 1.0\n")
    with pytest.raises(UserError, match="is not in a git repository, so @REV names nothing"):
        parse_workload(f"{outside}:work@HEAD")


def test_two_versions_of_a_function_are_swept_in_turn_and_the_second_held_against_the_first(tmp_path, capsys):
    """The working tree's function does five times the work of the committed one: both swept in one run,
    a repeat of each in turn, the second called slower by the rule, its answer bit-for-bit the first's,
    and the two folders compare (and gate) as one job's."""
    from blasbench.measuring.workloads import measure_workloads
    from blasbench.render import render_all
    from blasbench.results.compare import compare_dirs
    from blasbench.results.directory import Results

    body = "def setup(n=160):\n    return np.random.default_rng(0).standard_normal((n, n))\n\n"
    path = committed(tmp_path, body + "def work(a, n=160):\n    return a @ a\n",
                     body + "def work(a, n=160):\n    for _ in range(5):\n        b = a @ a\n    return b\n")
    workloads = {name: (parse_workload(f"{path}:{asked}"), f"mine.py:{asked}")
                 for name, asked in (("mine.work@HEAD~1", "work@HEAD~1"), ("mine.work", "work"))}
    settings = ScalingSettings(rungs=(), threads=(1,), repeats=5, workload=workloads["mine.work"][0], warmup=False)
    assert measure_workloads(settings, workloads, tmp_path / "r") == []
    turns = re.findall(r"^== (\S+) .*repeat (\d):", capsys.readouterr().out, re.M)
    assert turns == [(name, str(repeat)) for repeat in range(1, 6) for name in workloads]
    results = Results.load(tmp_path / "r")
    [against] = results.findings["workload"]["against_first"]
    [row] = against["rows"]
    assert (against["name"], against["base"]) == ("mine.work", "mine.work@HEAD~1") and against["same_answer"] is True
    assert row["ratio"] > 2 and row["verdict"] == "slower" and row["processes"] == [5, 5], row
    render_all(results)
    page = (tmp_path / "r" / "workloads.md").read_text()
    assert "## `mine.work` against `mine.work@HEAD~1`" in page and "**slower** (p = 0.0079)" in page
    assert "- [Workloads](workloads.md) `mine.work` against `mine.work@HEAD~1`" in (tmp_path / "r" / "index.md").read_text()
    comparison = compare_dirs([tmp_path / "r" / "workloads" / name for name in workloads])
    [compared] = comparison["tables"]["scaling"]
    assert comparison["together"] and compared["verdict"] == "slower"
