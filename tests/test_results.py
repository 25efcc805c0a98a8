"""Results are versioned data read once; analysis says only what the data support."""

import json
import re
import shutil
from pathlib import Path

import pytest

from blasbench import UserError
from blasbench.cli import main
from blasbench.render import render_all
from blasbench.render.bench import render_bench
from blasbench.render.scaling import render_scaling
from blasbench.results import seed
from blasbench.results.directory import Results
from blasbench.results.kinds import RESULT_VERSION, read_result, write_result
from blasbench.results.kinds.scaling import analyse_rung, analyse_scaling
from blasbench.results.stats import RECOMMENDATION_RULE, amdahl_fit

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent


def test_the_rule_gives_the_posts_own_recommendation_on_its_timings():
    assert seed.seed_recommendation() == 4  # the post: "use 4 or 5 cores"
    assert "10%" in RECOMMENDATION_RULE


def test_two_thread_counts_give_no_amdahl_fit():
    fit = amdahl_fit([1, 2], [10.0, 6.0])
    assert fit["serial_fraction"] is None and "at least 3 thread counts; 2 measured" in fit["why_none"]
    assert amdahl_fit([1, 2, 4], [10.0, 6.0, 4.0])["serial_fraction"] > 0


def test_two_point_sweeps_render_no_amdahl_fit(tmp_path):
    shutil.copy(DATA / "epyc2-a" / "scaling.json", tmp_path)  # 1 and 2 threads
    render_all(Results.load(tmp_path))
    text = (tmp_path / "scaling.md").read_text()
    assert "No Amdahl fit: an Amdahl fit needs at least 3 thread counts; 2 measured." in text
    assert "can exceed" not in text


def test_the_speedup_shows_the_range_of_each_repeats_own():
    def point(threads, repeat, wall):
        return {"threads": threads, "repeat": repeat, "wall": wall, "user": wall, "system": 0.0,
                "seconds_per_iteration": wall / 10, "phases": {}}
    points = [point(1, 0, 10.0), point(2, 0, 5.0), point(1, 1, 12.0), point(2, 1, 8.0), point(1, 2, 11.0), point(2, 2, 6.0)]
    rows = analyse_rung(points)["rows"]
    assert rows[1]["speedup"] == 11.0 / 6.0  # the medians'
    assert rows[1]["speedup_range"] == [1.5, 2.0]  # repeat 1: 12/8, repeat 0: 10/5
    assert rows[0]["speedup_range"] is None


def test_an_interrupted_sweep_renders_as_partial_and_its_advice_as_provisional(tmp_path):
    shutil.copy(DATA / "xeon16-pypi-a" / "scaling.json", tmp_path)  # 4-contiguous stopped at 4 of 16 threads
    render_all(Results.load(tmp_path))
    text = (tmp_path / "scaling.md").read_text()
    assert "**Partial sweep:** 3 of 6 thread counts measured in full" in text  # 1, 2, 4 of 1-16
    assert "Recommendation (provisional: a smoke run; a partial sweep)" in text  # 10 CG iterations, too
    assert "provisionally use" in (tmp_path / "index.md").read_text()


def test_three_repeats_a_side_leave_the_rules_advice_provisional_and_say_how_to_decide_it(tmp_path):
    """epyc2-a: the network swept at 1 and 2 threads, three repeats each; the medians say 2 threads pay, but
    three processes a side can never reach p < 0.01 (p = 0.1 at best): the advice is the medians', provisional."""
    shutil.copy(DATA / "epyc2-a" / "scaling.json", tmp_path)
    results = Results.load(tmp_path)
    advice = results.findings["scaling"]["0-seed"]["recommendation"]
    assert advice["threads"] == 2 and advice["provisional"] and advice["undecided"][0]["p"] == pytest.approx(0.1)
    render_all(results)
    assert "**Recommendation (provisional: 1 → 2 threads is undecided by the rule, p = 0.1 with 3 repeats a side; " \
           "--repeats 6 can decide it): use 2 thread(s)**" in (tmp_path / "scaling.md").read_text()
    assert "(provisional: 1 → 2 threads is undecided by the rule" in (tmp_path / "index.md").read_text()


def test_five_repeats_left_undecided_ask_for_more_not_for_the_five_they_had(tmp_path):
    """A call at the advice's line, swept with five repeats (the spr2-use-n-threads-line example): one
    2-thread process far off (another process on its core) keeps five a side from the test; the advice
    asks for more repeats than were run, not for "5 or more"."""
    shutil.copy(DATA / "at-the-line" / "scaling.json", tmp_path)
    results = Results.load(tmp_path)
    [step] = results.findings["scaling"]["product_and_sort"]["recommendation"]["undecided"]
    assert step["repeats"] == 5 and step["p"] == pytest.approx(0.15, abs=0.01)
    render_all(results)
    assert "with 5 repeats a side; --repeats 10 can decide it" in (tmp_path / "scaling.md").read_text()


def test_a_report_over_mixed_provenance_says_so_at_its_top(tmp_path):
    for name in ("scaling.json", "why.json", "profile.json", "build.json"):
        shutil.copy(DATA / "epyc2-a" / name, tmp_path)
    results = Results.load(tmp_path)
    assert set(results.mixed()) >= {"commit"}
    render_all(results)
    index = (tmp_path / "index.md").read_text()
    assert index.splitlines()[2].startswith("> **Mixed provenance:** these results come from several commits (")
    assert "### Provenance of the sweep" in (tmp_path / "scaling.md").read_text()


def test_the_profile_headline_says_faster_or_slower(tmp_path):
    shutil.copy(DATA / "epyc2-a" / "profile.json", tmp_path)
    render_all(Results.load(tmp_path))
    line = next(line for line in (tmp_path / "index.md").read_text().splitlines() if "[Profile]" in line)
    assert "x faster." in line and "1/" not in line


def test_a_result_reads_back_with_its_kind_and_version(tmp_path):
    write_result(tmp_path / "bench.json", {"kind": "bench", "rows": []})
    assert read_result(tmp_path / "bench.json", "bench")["version"] == RESULT_VERSION


def test_an_older_bench_is_migrated_to_say_its_dgemm_rate_is_a_best_of_3():
    result = read_result(DATA / "epyc2-a" / "bench.json", "bench")
    assert result["version"] == RESULT_VERSION and result["dgemm_repeats"] == 3
    assert "DGEMM 3000²'s (its best of 3," in render_bench(result)


def test_a_version_1_sweep_is_migrated_to_rungs():
    result = read_result(DATA / "epyc2-a" / "scaling.json", "scaling")
    assert result["version"] == RESULT_VERSION and result["settings"]["rungs"] == ["0-seed", "4-contiguous"]
    assert {p["rung"] for p in result["points"]} == {"0-seed", "4-contiguous"}


@pytest.mark.parametrize("text, message", [
    ('{"kind": "scaling", "version": 99, "settings": {}, "points": []}',
     f"has result version 99, newer than this blasbench reads ({RESULT_VERSION}): update blasbench"),
    ('{"kind": "scaling", "settings": {}, "poi', "is not valid JSON (line 1: cut short or edited): move it away"),
    ("", "is empty: move it away"),
    ("{}", "is not a scaling result (kind: None)"),
    ('{"kind": "bench", "rows": []}', "is not a scaling result (kind: 'bench')"),
    ('{"kind": "scaling", "settings": {}}', "is a scaling result without points"),
    ("[1, 2]", "is not a scaling result (kind: 'list')"),
])
def test_a_bad_result_file_is_one_line_naming_it(tmp_path, text, message):
    path = tmp_path / "scaling.json"
    path.write_text(text)
    with pytest.raises(UserError, match=re.escape(message)) as error:
        read_result(path, "scaling")
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_report_on_a_bad_file_says_one_line_and_rewrites_nothing(tmp_path, capsys):
    shutil.copy(DATA / "epyc2-a" / "profile.json", tmp_path)
    assert main(["report", "--results", str(tmp_path)]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "scaling.json").write_text('{"kind": "scaling", "points": [')
    assert main(["report", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path / 'scaling.json'} is not valid JSON")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "scaling.json"} == before


def test_report_on_a_missing_directory_creates_nothing(tmp_path, capsys):
    assert main(["report", "--results", str(tmp_path / "missing")]) == 2
    assert "is not a results directory" in capsys.readouterr().err and not (tmp_path / "missing").exists()


def test_compare_refuses_the_same_directory_twice(capsys):
    assert main(["compare", str(DATA / "xeon16-pypi-a"), str(DATA / "xeon16-pypi-a") + "/"]) == 2
    assert "the same directory is given twice" in capsys.readouterr().err


def test_compare_never_writes_into_the_committed_examples(capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["compare", str(DATA / "xeon16-pypi-a"), str(DATA / "xeon16-pypi-b"),
                 "--results", "reports/examples/compare"]) == 2
    assert "inside the committed examples" in capsys.readouterr().err


def test_every_result_records_its_version_when_written(tmp_path):
    write_result(tmp_path / "x.json", {"kind": "why", "experiments": {}})
    assert json.loads((tmp_path / "x.json").read_text())["version"] == RESULT_VERSION
    with pytest.raises(ValueError):
        write_result(tmp_path / "y.json", {"kind": "nonsense"})


def test_every_version_has_its_migration_and_older_results_reach_the_current_shape():
    """Readers see the current version only: a version-1 bench's rows get their dtype and an empty
    peers list, a version-1 build's verification its status (no reader falls back on its own)."""
    from blasbench.results.kinds import KINDS

    assert all(2 <= version <= RESULT_VERSION for kind in KINDS for version in kind.migrations)
    bench = read_result(DATA / "xeon16-pypi-a" / "bench.json", "bench")
    assert bench["peers"] == {} and {row["dtype"] for row in bench["rows"]} == {"float64"}
    build = read_result(DATA / "epyc2-a" / "build.json", "build")
    assert build["verification"]["status"] in ("passed", "failed")
    assert "openblas" not in build and build["blas"]["flavour"] == "pthread" and "variant" not in build["blas"]


def test_version_8_conditions_and_sbatch_options_reach_their_version_9_names(tmp_path):
    """"setup" had two meanings until version 9: an experiment's or the limits probe's way of running a
    process is now its "condition"; a Slurm job's partition, time, account and constraint options are
    the SBATCH_* variables it was submitted with."""
    why = read_result(DATA / "epyc2-a" / "why.json", "why")
    rows = [row for found in why["experiments"].values() for row in found["rows"]]
    assert not any("setup" in row for row in rows) and {r["condition"] for r in why["experiments"]["limits"]["rows"]}
    variant = read_result(DATA / "epyc2-a" / "variants" / "pypi" / "variant.json", "variant")
    assert all("condition" in row and "setup" not in row for row in variant["limits"])
    assert variant["variant"]["name"] == "pypi"  # the variant's own record is not a condition
    job = json.loads((DATA / "cluster-2node-test" / "cluster.json").read_text())
    job.update(partition="short", time="01:00:00", account=None, version=8)
    (tmp_path / "cluster.json").write_text(json.dumps(job))
    migrated = read_result(tmp_path / "cluster.json", "cluster")
    assert migrated["sbatch_environment"] == {"SBATCH_PARTITION": "short", "SBATCH_TIMELIMIT": "01:00:00"}
    assert not {"partition", "time", "account", "constraint"} & set(migrated)


def test_a_migration_that_meets_a_cut_short_file_says_so_in_one_line(tmp_path):
    path = tmp_path / "build.json"
    path.write_text(json.dumps({"kind": "build", "version": 4, "wheels": [], "verification": {},
                                "openblas": {"provider": "system"}}))  # no "variant": edited by hand
    with pytest.raises(UserError, match="version 4 build result that lacks what it should have"):
        read_result(path, "build")


def test_a_smoke_run_says_so_and_its_advice_is_provisional(tmp_path):
    """A `--quick` sweep (3 iterations, 5,000 examples, one run per point) once advised "use 2 thread(s)"
    as if it were a measurement of this machine's scaling."""
    result = read_result(DATA / "epyc2-a" / "scaling.json", "scaling")
    result["settings"]["workload"].update(iterations=3, train_size=5000)
    text = scaling_page(result)
    assert "**Smoke run:** 3 CG iterations on 5,000 examples" in text and "**Recommendation (provisional: a smoke run)" in text
    assert "Smoke run" not in scaling_page(read_result(DATA / "epyc2-a" / "scaling.json", "scaling"))


def test_equal_times_are_about_as_fast_never_one_point_zero_zero_x_slower():
    from blasbench.render.format import ratio_words

    assert ratio_words(1.0, 1.004) == "about as fast (1.00x)"
    assert ratio_words(1.0, 1.2) == "1.20x slower" and ratio_words(1.2, 1.0) == "1.20x faster"


def test_the_index_prints_the_command_that_renders_its_own_directory_again(tmp_path):
    shutil.copy(DATA / "epyc2-a" / "bench.json", tmp_path)
    render_all(Results.load(tmp_path))
    assert f"`python3 -m nox -s report -- --results {tmp_path}` renders them again" in (tmp_path / "index.md").read_text()


def test_report_on_a_cluster_job_renders_the_job_index_again(tmp_path):
    """`report` on a Slurm job's directory once replaced its merged index (the nodes, their CPUs and
    BLAS) with an empty "No results yet" page."""
    job = tmp_path / "reports" / "examples" / "job"  # as deep in a clone as the committed one, for the glossary's link
    shutil.copytree(DATA / "cluster-2node-test", job)
    shutil.copytree(Path(__file__).parent.parent / "docs", tmp_path / "docs")
    committed = (job / "index.md").read_text()
    (job / "index.md").unlink()
    assert main(["report", "--results", str(job)]) == 0
    assert (job / "index.md").read_text() == committed
    assert "| 1 | node2 | completed | AMD EPYC (2 cores) |" in committed and "[compare.md](compare.md)" in committed


def test_a_comparison_renders_the_same_from_memory_and_from_its_file(tmp_path):
    from blasbench.render.compare import render_compare
    from blasbench.results.kinds import read_result

    comparison = read_result(DATA / "compare" / "compare.json", "compare")
    shuffled = {**comparison, "tables": dict(reversed(list(comparison["tables"].items())))}
    assert render_compare(shuffled) == render_compare(comparison)


def test_the_index_ends_in_one_bottom_line_a_user_can_act_on(tmp_path):
    for name in ("scaling.json", "build.json"):
        shutil.copy(DATA / "epyc2-a" / name, tmp_path)
    render_all(Results.load(tmp_path))
    index = (tmp_path / "index.md").read_text()
    bottom = [line for line in index.splitlines() if line.startswith("**Bottom line**")]
    assert len(bottom) == 1 and "on AMD EPYC (2 usable cores)" in bottom[0]
    assert "at 2 thread(s) on openblas 0.3.21 (pthreads): nothing to set: by default it uses every usable core" in bottom[0]
    assert "`python3 -m nox -s scaling -- --setup system:pthread pypi blis ...` measures them side by side" in bottom[0]
    result = read_result(DATA / "epyc2-a" / "scaling.json", "scaling")
    for point in result["points"]:  # one thread made it faster: the advice is to hold the BLAS to one
        point["wall"] *= 1 if point["threads"] == 1 else 2
    write_result(tmp_path / "scaling.json", result)
    render_all(Results.load(tmp_path))
    assert "set `OPENBLAS_NUM_THREADS=1`, or wrap the work in `threadpoolctl.threadpool_limits(1)`" in (
        tmp_path / "index.md").read_text()


def test_a_sweeps_provenance_names_the_thread_counts_swept_not_the_recording_process(tmp_path):
    """The sweep's provenance once read "openblas (…, 1 threads)" and every thread variable `=1`:
    the settings of the process that recorded it, read as if the sweep ran on one thread."""
    text = scaling_page(read_result(DATA / "epyc2-a" / "scaling.json", "scaling"))
    provenance = text.split("### Provenance of the sweep")[1]
    assert "Thread counts measured: 1, 2, each in a fresh process" in provenance
    assert "1 threads)" not in provenance and "`OPENBLAS_NUM_THREADS=1`" not in provenance


def test_a_smoke_runs_accuracy_is_not_set_beside_the_posts_reference():
    result = read_result(DATA / "epyc2-a" / "scaling.json", "scaling")
    assert "0.9076" in scaling_page(result)
    result["settings"]["workload"].update(iterations=3, train_size=5000)
    for point in result["points"]:
        point["cv_accuracy"] = 0.2565
    text = scaling_page(result)
    assert "0.2565 in all" in text and "0.9076" not in text and "no reference is set beside it" in text


def test_every_report_ends_pointing_to_the_glossary(tmp_path):
    results = tmp_path / "reports"
    shutil.copytree(DATA / "epyc2-a", results)
    written = [p for p in render_all(Results.load(results)) if p.suffix == ".md"]
    assert {p.name for p in written} >= {"index.md", "scaling.md", "build.md", "bench.md", "profile.md", "setups.md"}
    for path in written:  # outside a clone the glossary is named, not linked
        assert path.read_text().endswith("written in blasbench's docs/glossary.md._\n"), path
    shutil.copytree(Path(__file__).parent.parent / "docs", tmp_path / "docs")
    render_all(Results.load(results))
    assert (results / "index.md").read_text().endswith("written in [docs/glossary.md](../docs/glossary.md)._\n")


def test_profile_changes_within_the_change_factor_are_marked_as_noise():
    from blasbench.render.profile import change_cell

    assert change_cell(-0.05) == "-5% ~" and change_cell(0.42) == "+42%" and change_cell(None) == "–"


def scaling_page(result: dict) -> str:
    """scaling.md of one sweep, as its kind's analysis found it."""
    return render_scaling(result, analyse_scaling(result))


def test_rendering_again_removes_the_pages_an_earlier_version_wrote_for_setups(tmp_path, capsys):
    """A directory from before setups.md (variants.md beside the variants' JSON, as epyc2-a's example had)
    rendered again: setups.md holds the findings, and the old page, which the index no longer names, is gone,
    said on stderr. Where setups.md is not written, a page of that name is left alone."""
    results = tmp_path / "reports"
    shutil.copytree(DATA / "epyc2-a", results)
    (results / "variants.md").write_text("# Setups side by side\n\nan earlier version's page\n")
    render_all(Results.load(results))
    assert not (results / "variants.md").exists() and "| **reference** |" in (results / "setups.md").read_text()
    said = capsys.readouterr().err
    assert f"removed {results / 'variants.md'}: an earlier version's page, its findings now in setups.md" in said
    unrelated = tmp_path / "threadmap-only"
    shutil.copytree(Path(__file__).parent.parent / "reports" / "examples" / "threadmap", unrelated)
    (unrelated / "releases.md").write_text("not ours\n")
    render_all(Results.load(unrelated))
    assert (unrelated / "releases.md").read_text() == "not ours\n"


def test_the_committed_examples_pages_are_what_the_code_renders_from_their_results(tmp_path, monkeypatch):
    """Each page under reports/examples/ is what rendering its directory's JSON gives now, byte for byte (a
    copy at the same path below a clone, rendered from its root, so that the glossary's link and the command
    the index prints are the same): a change of wording re-renders the examples in the same commit."""
    examples = ROOT / "reports" / "examples"
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "glossary.md", tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    for directory in (d for d in examples.iterdir() if d.is_dir()):
        copy = Path("reports") / "examples" / directory.name
        shutil.copytree(directory, copy)
        render_all(Results.load(copy))
        for page in directory.rglob("*.md"):
            assert (copy / page.relative_to(directory)).read_text() == page.read_text(), (
                f"{page.relative_to(ROOT)} is not what the code renders: python3 -m blasbench report --results {directory}")
