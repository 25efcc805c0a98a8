"""Several setups side by side (`scaling`/`threadmap --setup A B ...`): setup errors, the report from recorded
results, real runs (slow)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from small_examples import EXAMPLES

from blasbench import UserError
from blasbench.cli import main
from blasbench.measuring.variants import project_root
from blasbench.render.format import duration, glossary_footer
from blasbench.render.setups import render_setups
from blasbench.render.variants import against_words, findings_lines, verdict
from blasbench.results.directory import Results
from blasbench.results.kinds import read_result
from blasbench.setups import VARIANTS


def variants_of(directory: Path) -> tuple[list[dict], list[dict]]:
    """The variants measured and failed under ``directory``, as its reading analysed them."""
    found = Results.load(directory).findings["variant"]
    return found["measured"], found["failed"]


ROOT = Path(__file__).resolve().parent.parent


def test_variants_are_installed_from_the_clone_run_in_or_else_the_one_blasbench_was_installed_from(tmp_path, monkeypatch):
    """Run from elsewhere, `pip install .`'s record of where it installed from names the clone; an installation from
    anything else, or a clone since moved, is one line."""
    from blasbench.measuring import variants

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(variants, "installed_from", lambda: ROOT)
    assert project_root() == ROOT
    for recorded in (None, tmp_path / "moved"):
        monkeypatch.setattr(variants, "installed_from", lambda recorded=recorded: recorded)
        with pytest.raises(UserError, match="run it from the repository root"):
            project_root()


@pytest.mark.slow
def test_where_pip_installed_blasbench_from_is_read_from_its_own_record(tmp_path):
    """A `pip install` of the clone (not editable) into a fresh environment, asked from another directory."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "env")], check=True)
    python = str(tmp_path / "env" / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(ROOT)], check=True)
    found = subprocess.run([python, "-c", "from blasbench.measuring.variants import installed_from; print(installed_from())"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found) == ROOT


def setups(names) -> list[str]:
    """The spellings of the side-by-side setups ``names`` (the names their results are kept under)."""
    return [str(VARIANTS[name].setup) for name in names]


def test_the_recorded_variants_render_with_their_findings():
    """variants/ as measured on this project's machine (frozen in tests/data): the report is rebuilt from the
    data alone, and says what the data show."""
    measured, failed = variants_of(Path(__file__).resolve().parent / "data" / "epyc2-a")
    by_name = {v["name"]: v for v in measured}
    assert not failed and set(by_name) == {"system-pthread", "system-openmp", "system-serial", "pypi", "reference",
                                           "site-cfg"}
    # the OpenMP build follows OMP_NUM_THREADS and ignores OPENBLAS_NUM_THREADS; pthreads honours both
    assert by_name["system-openmp"]["ignored"] == ["OPENBLAS_NUM_THREADS=1"]
    assert by_name["system-pthread"]["ignored"] == []
    assert verdict(by_name["system-serial"]).startswith("single-threaded BLAS")
    assert verdict(by_name["reference"]).startswith("single-threaded BLAS")
    report = render_setups(Results.load(Path(__file__).resolve().parent / "data" / "epyc2-a"))
    assert report.count("| **") == 6 and "**ignores** OPENBLAS_NUM_THREADS=1" in report


@pytest.mark.slow
@pytest.mark.all_providers  # CI's tier has setups side by side in the function's test below, in a minute less
@pytest.mark.parametrize("names", [
    ["system-pthread", "pypi"],
    ["system-pthread", "pypi", "reference"],  # the reference BLAS's SciPy: another 10-30 minutes of compiling
], ids=["openblas-and-pypi", "with-the-reference-floor"])
def test_scaling_sweeps_openblas_pypi_and_the_reference_floor_side_by_side(names, tmp_path, monkeypatch):
    """Quick settings, real builds (from the wheelhouse), real environments, real runs."""
    monkeypatch.chdir(ROOT)
    results = tmp_path / "reports"
    assert main(["scaling", "--quick", "--setup", *setups(names), "--results", str(results)]) == 0
    measured, failed = variants_of(results)
    assert not failed
    by_name = {v["name"]: v for v in measured}
    assert set(by_name) == set(names)
    assert all(v["blas_sha256"] for v in measured)  # each record names the BLAS files its sweep's processes loaded
    if "reference" in names:
        reference = by_name["reference"]
        assert reference["blas"]["reported_threads"] is None  # threadpoolctl knows no netlib BLAS
        assert verdict(reference).startswith("single-threaded BLAS")
        assert reference["library"]["library"].endswith(os.path.join("blas", "libblas.so.3.11.0"))
        # the floor really is the floor: optimised DGEMM is several times faster on one thread
        for name in ("system-pthread", "pypi"):
            assert by_name[name]["dgemm_one"]["gflops"] > 3 * reference["dgemm_one"]["gflops"]
    assert by_name["system-pthread"]["library"]["provider"] == "system" and by_name["pypi"]["library"] is None
    report = (results / "setups.md").read_text()
    assert all(f"| **{name}** |" in report for name in names)
    assert (results / "variants.svg").exists()
    # rerunning measures nothing new: every point is already there
    assert main(["scaling", "--quick", "--setup", *setups(names), "--results", str(results)]) == 0
    rendered = render_setups(Results.load(results)) + glossary_footer(results)
    assert rendered == report.replace("![variants](variants.svg)\n\n", "")


# The network's test above (the full tier) has the reference floor; here two setups CI's tier builds anyway.
VARIANTS_HERE = ("system-pthread", "pypi")


@pytest.mark.slow
def test_scaling_and_threadmap_sweep_a_users_function_and_map_each_setup_side_by_side(tmp_path, monkeypatch):
    """`scaling --setup A B --workload ...` then `threadmap --setup A B` into the same results: the
    small-solves example (OpenBLAS issue 4387) in each setup's environment, reported per call, its
    answers compared, and each environment's calls mapped, in one report."""
    monkeypatch.chdir(ROOT)
    results = tmp_path / "reports"
    assert main(["scaling", "--quick", "--setup", *setups(VARIANTS_HERE), "--allow-busy",
                 "--workload", "examples/small_solves.py:solve_many", "--workload-args", '{"count": 50}',
                 "--results", str(results)]) == 0
    assert main(["threadmap", "--setup", *setups(VARIANTS_HERE), "--allow-busy", "--calls", "solve", "a @ b",
                 "--sizes", "2", "128", "--rounds", "2", "--more-rounds", "0", "--results", str(results)]) == 0
    measured, failed = variants_of(results)
    assert not failed and {v["name"] for v in measured} == set(VARIANTS_HERE)
    for variant in measured:
        assert variant["settings"]["workload"]["spec"] == "examples/small_solves.py:solve_many"
        assert all(r["wall"]["median"] < 1 for r in variant["rows"])  # seconds per call, not a training
    report = (results / "setups.md").read_text()
    assert "The same function (`examples/small_solves.py:solve_many` with `{\"count\": 50}`" in report
    assert "s per call, 1 thread" in report and ", the function " in report
    assert "## Threading map per setup" in report and "## Does threading change the answer, per variant?" in report
    assert all(f"- [`{name}`](variants/{name}/threadmap.md): float64 on " in report for name in VARIANTS_HERE)
    assert all((results / "variants" / name / "threadmap.md").exists() for name in VARIANTS_HERE)
    print(report)


@pytest.mark.slow
@pytest.mark.parametrize("example", [name for name in EXAMPLES if name != "small_solves.py:solve_many"])
def test_scaling_sweeps_every_other_example_on_the_installed_numpy(example, tmp_path, monkeypatch):
    """The other examples through `scaling --setup installed --workload` (small size, this environment's
    NumPy/SciPy: the side-by-side and the map are tested above): answers compared, seconds per call reported."""
    monkeypatch.chdir(ROOT)
    results = tmp_path / "reports"
    assert main(["scaling", "--quick", "--setup", "installed", "--allow-busy",
                 "--workload", f"examples/{example}", "--workload-args", EXAMPLES[example],
                 "--results", str(results)]) == 0
    sweep = read_result(results / "scaling.json", "scaling")
    assert sweep["settings"]["workload"]["spec"] == f"examples/{example}" and sweep["points"]
    report = (results / "scaling.md").read_text()
    arguments = json.dumps(json.loads(EXAMPLES[example]), sort_keys=True)  # as the report writes them
    assert f"`examples/{example}` with `{arguments}`" in report
    assert "### Does threading change the answer?" in report
    print(report)


def test_findings_name_the_fastest_and_say_when_rows_are_noise_undecided_or_one_binary():
    from blasbench.results.kinds.variant import variants_findings

    def variant(name, one, all_, sha="a", repeats=5):
        """Five points at each end, 0.5% apart: the rule's test can tell a 1.25x from noise."""
        timing = lambda s: {"threads": None, "wall": {"median": s}}  # noqa: E731
        points = [{"threads": threads, "wall": s * (1 + 0.005 * k)} for threads, s in ((1, one), (2, all_))
                  for k in range(-(repeats // 2), repeats - repeats // 2)]
        return {"name": name, "one": {**timing(one), "threads": 1}, "all": {**timing(all_), "threads": 2},
                "points": points, "blas_sha256": {f"/lib/{name}.so": sha}}

    findings = variants_findings([variant("blis", 5.0, 3.0, sha="b"), variant("mkl", 4.0, 2.99, sha="m"),
                                  variant("pypi", 6.0, 4.0), variant("copy", 6.0, 4.0)])
    assert findings["one"]["fastest"] == "mkl" and findings["one"]["ratio"] == pytest.approx(1.25)
    assert findings["one"]["verdict"] == "slower"
    assert findings["all"]["fastest"] == "mkl" and findings["all"]["next"] == "blis" and findings["all"]["verdict"] == "no change"
    assert findings["same_binary"] == [["pypi", "copy"]]
    assert "the next, `blis`, is within noise of it (1.00x its time)" in findings_lines(findings)
    # three repeats a side cannot reach p < 0.01: 1.25x apart reads undecided, never "within noise"
    findings = variants_findings([variant("blis", 5.0, 3.0, sha="b", repeats=3), variant("mkl", 4.0, 2.99, sha="m", repeats=3)])
    assert findings["one"]["verdict"] == "undecided"
    assert "takes 1.25x as long, but its repeats overlap the fastest's: undecided" in findings_lines(findings)


def test_a_busy_machine_stops_the_side_by_side_after_the_builds_before_any_timing(tmp_path, monkeypatch):
    """Every variant is built and installed before the first timing, then the comparison waits once
    for quiet cores; when they stay busy it stops with one message, nothing timed."""
    from blasbench import MachineBusy
    from blasbench.measuring import variants

    prepared = []
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(variants, "prepare", lambda variant, *_: prepared.append(variant.name) or {"python": "x"})

    def busy():
        raise MachineBusy("the machine is busy (other processes kept 2.00 cores busy): run again when it is quiet")

    with pytest.raises(MachineBusy, match="run again when it is quiet"):
        variants.compare_variants([VARIANTS["system-pthread"], VARIANTS["pypi"]], None, tmp_path, quiet=busy)
    assert prepared == ["system-pthread", "pypi"] and not list(tmp_path.glob("variants/*/variant.json"))


def made_up_variants(monkeypatch, tmp_path, fails: tuple[str, int] | None = None) -> tuple[list[str], list[tuple]]:
    """Three setups side by side whose sweeps (two repeats) and maps (two rounds and the further
    ones) are made up: the variants failed, and each step in the order measured. ``fails``: the variant
    whose sweep fails at that repeat."""
    from blasbench.measuring import variants
    from blasbench.measuring.sweep import ScalingSettings
    from blasbench.measuring.threadmap import MapSettings

    steps = []

    def sweep_repeats(settings, path, python):
        for repeat in range(settings.repeats):
            if (python, repeat) == fails:
                raise UserError(f"{python}'s sweep failed")
            steps.append((python, "sweep", repeat))
            yield {"environment": {"threadpool_info": []}}

    def map_rounds(settings, path, python):
        for round_ in range(settings.rounds + 1):
            steps.append((python, "map", round_))
            yield {}

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(variants, "prepare", lambda variant, *_: {"python": variant.name})
    monkeypatch.setattr(variants, "probed", lambda variant, *_: {"kind": "variant", "variant": {"name": variant.name}})
    monkeypatch.setattr(variants, "sweep_repeats", sweep_repeats)
    monkeypatch.setattr(variants, "map_rounds", map_rounds)
    failed = variants.compare_variants([VARIANTS[name] for name in ("system-pthread", "system-openmp", "pypi")],
                                       ScalingSettings(("x",), (1, 2), 2), tmp_path, map_settings=MapSettings(rounds=2))
    return failed, steps


def test_side_by_side_measures_a_repeat_of_every_setup_before_the_next_repeat_of_any(monkeypatch, tmp_path):
    """Variants swept one after another let the machine's drift over the run read as a difference between
    two (the rule's verdict on the fastest and the next): the sweeps take a repeat of each variant in turn,
    then the maps a round of each in turn, then their further rounds."""
    failed, steps = made_up_variants(monkeypatch, tmp_path)
    names = ["system-pthread", "system-openmp", "pypi"]
    assert not failed
    # each variant's record names what its sweep's processes loaded (the last repeat's turn is the sweep's end)
    assert all(read_result(tmp_path / "variants" / name / "variant.json", "variant")["environment"] == {"threadpool_info": []}
               for name in names)
    assert steps == [(name, "sweep", repeat) for repeat in (0, 1) for name in names] + \
        [(name, "map", round_) for round_ in (0, 1, 2) for name in names]


def test_a_variant_whose_sweep_fails_is_reported_and_the_others_measured_to_the_end(monkeypatch, tmp_path, capsys):
    failed, steps = made_up_variants(monkeypatch, tmp_path, fails=("system-openmp", 1))
    assert failed == ["system-openmp"] and "error: system-openmp: system-openmp's sweep failed" in capsys.readouterr().err
    assert [step for step in steps if step[0] == "system-openmp"] == [("system-openmp", "sweep", 0)]  # not mapped
    assert [step for step in steps if step[0] == "pypi"] == [("pypi", "sweep", 0), ("pypi", "sweep", 1),
                                                             *(("pypi", "map", r) for r in (0, 1, 2))]


def test_a_variant_stopped_by_an_error_keeps_in_its_record_what_it_loaded_and_the_error(monkeypatch, tmp_path, capsys):
    made_up_variants(monkeypatch, tmp_path, fails=("system-openmp", 1))
    record = read_result(tmp_path / "variants" / "system-openmp" / "variant.json", "variant")
    assert record["error"] == "system-openmp's sweep failed" and record["environment"] == {"threadpool_info": []}


def test_a_variant_stopped_after_a_whole_repeat_shows_its_row_and_its_error(tmp_path):
    """What a variant measured before an error is shown, and the error beside it; a variant with no whole
    repeat (no speedup to show) is listed as not measured."""
    directory = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "data" / "spr2-variants-in-turn", directory)
    for name, keep in (("pypi", 2), ("system-pthread", 1)):  # pypi: one whole repeat; system-pthread: 1 thread only
        variant, scaling = (directory / "variants" / name / f for f in ("variant.json", "scaling.json"))
        record, sweep = json.loads(variant.read_text()), json.loads(scaling.read_text())
        variant.write_text(json.dumps({**record, "error": f"{name} stopped"}))
        scaling.write_text(json.dumps({**sweep, "points": sweep["points"][:keep]}))
    measured, failed = variants_of(directory)
    assert [v["name"] for v in measured] == ["pypi"] and [r["variant"]["name"] for r in failed] == ["system-pthread", "pypi"]
    report = render_setups(Results.load(directory))
    assert "| **pypi** |" in report and "| **system-pthread** |" not in report
    assert "- system-pthread: system-pthread stopped\n- pypi: pypi stopped (above: what it measured before)" in report


def test_a_variant_measured_again_drops_the_error_an_earlier_run_recorded(monkeypatch, tmp_path):
    from blasbench.measuring import variants
    from blasbench.setups import VARIANTS

    monkeypatch.setattr(variants, "current_identity", lambda python: {"host": "here"})
    wanted = {"kind": "variant", "variant": {"name": "pypi"}, "identity": {"host": "here"}, "dgemm_size": 64, "limits": [],
              "error": "earlier"}
    (tmp_path / "variant.json").write_text(json.dumps(wanted))
    record = variants.probed(VARIANTS["pypi"], {"python": "python"}, tmp_path, 64)
    assert "error" not in record and "error" not in read_result(tmp_path / "variant.json", "variant")


def test_a_blas_that_starts_on_one_thread_is_not_called_single_threaded_nor_its_limits_honoured():
    """BLIS as measured on a Zen 3 machine (committed example): with no thread variable its DGEMM runs one
    thread, while the sweep's points, every variable set, ran two. The verdict says "unless told", the
    DGEMM column says on how many threads it ran, and its limits are not called honoured: nothing to limit."""
    from blasbench.render.scaling import limits_matrix

    measured, _ = variants_of(ROOT / "tests" / "data" / "epyc2-zen3-variants-c")
    blis = next(v for v in measured if v["name"] == "blis")
    assert verdict(blis).startswith("one BLAS thread unless told (DGEMM") and "cores free" not in verdict(blis)
    page = render_setups(Results.load(ROOT / "tests" / "data" / "epyc2-zen3-variants-c"))
    assert f"| {blis['dgemm_all']['gflops']:.1f} on 1 (" in page
    blis_column = [line.split("|")[1 + [v["name"] for v in measured].index("blis") + 1]
                   for line in limits_matrix(measured).splitlines()[2:]]
    assert all("(one core without a limit too)" in cell for cell in blis_column[1:]), blis_column
    pthread = next(v for v in measured if v["name"] == "system-pthread")
    assert verdict(pthread).startswith("parallel BLAS")


def test_the_verdict_says_how_far_from_the_fastest_to_two_digits_as_the_table_does():
    """5.51 s against the fastest's 5.25 s was '1.0x the fastest's time', which reads as a tie."""
    measured, _ = variants_of(ROOT / "tests" / "data" / "epyc2-zen3-variants-c")
    pthread = next(v for v in measured if v["name"] == "system-pthread")
    fastest = min(measured, key=lambda v: v["best_seconds"])
    assert f"; {pthread['best_seconds'] / fastest['best_seconds']:.2f}x the fastest's time" in verdict(pthread)
    assert "1.05x the fastest's time" in verdict(pthread)


def test_each_setup_is_compared_cell_by_cell_with_the_default_build_by_the_rule(tmp_path):
    """Two setups swept five times each (spr2-variants-in-turn): nothing differs beyond noise as recorded. With
    `pypi`'s iterations made 1.5x slower on purpose at 2 threads, that cell alone is slower beyond noise against
    `system-pthread`, in the findings, setups.md and the index; with three processes a side (epyc2-a), even
    the reference BLAS's 15x is undecided, and said so."""
    directory = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "data" / "spr2-variants-in-turn", directory)
    one = Results.load(directory).findings["variant"]["against_one"]["scaling"]
    assert (one["against"], one["compared"], one["differences"], one["undecided"]) == ("system-pthread", 2, [], {})
    sweep = directory / "variants" / "pypi" / "scaling.json"
    data = json.loads(sweep.read_text())
    for point in data["points"]:
        point["seconds_per_iteration"] *= 1.5 if point["threads"] == 2 else 1
    sweep.write_text(json.dumps(data))
    [slower] = Results.load(directory).findings["variant"]["against_one"]["scaling"]["differences"]
    assert (slower["setup"], slower["threads"], slower["verdict"]) == ("pypi", 2, "slower") and slower["p"] < 0.01
    assert main(["report", "--results", str(directory)]) == 0
    page, index = (directory / "setups.md").read_text(), (directory / "index.md").read_text()
    assert "## Each setup's thread sweep against `system-pthread`'s" in page
    after, before = (duration(seconds) for seconds in slower["seconds"][::-1])
    assert f"at 2 thread(s): {after}, `system-pthread` {before}: **slower** (" in page
    assert "(setups.md#each-setups-thread-sweep-against-system-pthreads): Of 2 cells of thread sweep compared with " \
           "`system-pthread`'s, 1 cell(s) differ beyond noise (`pypi`: 1 slower)." in index
    recorded = Results.load(ROOT / "tests" / "data" / "epyc2-a").findings["variant"]["against_one"]["scaling"]
    assert recorded["differences"] == [] and recorded["undecided"] == {"system-serial": 1, "reference": 2, "site-cfg": 1}
    assert recorded["fewest_processes"] == 3  # the smallest p three a side can give is 0.1: six can pass the test
    assert against_words("scaling", recorded).endswith("(`system-serial` 1, `reference` 2, `site-cfg` 1): "
                                                       "`--repeats 6` can decide them")


def test_a_setup_measured_once_is_counted_undecided_against_the_default_only_beyond_the_change_factor(tmp_path):
    """One process a side has no known noise: `pypi` swept once (the first repeat of spr2-variants-in-turn) is
    1.20x `system-pthread`'s median at one thread and 0.93x at two, so only the one-thread cell is counted as
    differing by the change factor, undecided; made 1.5x slower at 2 threads, both are, and `--repeats 5` is
    what decides them."""
    directory = tmp_path / "run"
    shutil.copytree(ROOT / "tests" / "data" / "spr2-variants-in-turn", directory)
    sweep = directory / "variants" / "pypi" / "scaling.json"
    data = json.loads(sweep.read_text())
    data["points"] = data["points"][:2]
    assert sorted(p["threads"] for p in data["points"]) == [1, 2]
    sweep.write_text(json.dumps(data))
    one = Results.load(directory).findings["variant"]["against_one"]["scaling"]
    assert (one["compared"], one["differences"], one["undecided"]) == (2, [], {"pypi": 1})
    for point in data["points"]:
        point["seconds_per_iteration"] *= 1.5 if point["threads"] == 2 else 1
    sweep.write_text(json.dumps(data))
    one = Results.load(directory).findings["variant"]["against_one"]["scaling"]
    assert (one["differences"], one["undecided"], one["fewest_processes"]) == ([], {"pypi": 2}, 1)
    assert against_words("scaling", one).endswith("(`pypi` 2): `--repeats 5` can decide them")
