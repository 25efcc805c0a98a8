"""Releases as an axis (OpenBLAS releases under one build, NumPy's wheel releases): which index
version a release means, what is refused before anything is installed, and what the release kind
finds and reports across releases."""

from __future__ import annotations

import re
import shutil
import sys

import pytest
from test_threadmap import cell

from blasbench import UserError
from blasbench.cli import main
from blasbench.measuring.releases import Measure, NumPyReleases, OpenBLASReleases
from blasbench.render import render_all
from blasbench.render.releases import bisect_line
from blasbench.results.directory import Results
from blasbench.results.kinds import read_result, write_result
from blasbench.results.kinds.release import label

# scipy-openblas32's index on 2026-12-04, as `pip index versions` lists it (a part)
INDEX = ["0.3.23.293.2", "0.3.26.0.1", "0.3.26.0.4", "0.3.27.0.1", "0.3.27.44.6", "0.3.28.0.1", "0.3.28.0.2",
         "0.3.29.0.0", "0.3.29.265.1", "0.3.31.22.0", "0.3.31.22.1", "0.3.31.188.0", "0.3.33.0.0", "0.3.34.0.0",
         "0.3.34.481.3"]
# numpy's, a part
NUMPY_INDEX = ["1.25.2", "1.26.0", "1.26.3", "1.26.4", "2.0.0", "2.0.1", "2.0.2", "2.1.3", "2.2.5", "2.2.6", "2.4.6"]
OPENBLAS = OpenBLASReleases()
NUMPY = NumPyReleases(with_scipy=False, project=None)


def test_a_release_means_its_tags_newest_build_or_else_the_first_snapshot_after_it():
    assert OPENBLAS.newest("0.3.28", INDEX) == "0.3.28.0.2" and OPENBLAS.newest("0.3.31", INDEX) == "0.3.31.22.1"
    assert OPENBLAS.newest("0.3.32", INDEX) is None


def test_a_range_takes_every_release_between_by_its_tag_and_a_list_takes_exact_versions_too():
    assert OPENBLAS.parse("0.3.26..0.3.29", INDEX) == ["0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0"]
    assert OPENBLAS.parse("0.3.34,0.3.27.44.6,0.3.29", INDEX) == ["0.3.27.44.6", "0.3.29.0.0", "0.3.34.0.0"]


def test_openblas_variants_are_points_beside_the_releases_and_a_range_mixes_with_a_list():
    assert OPENBLAS.parse("0.3.26..0.3.27,source,0.3.34,system-pthread", INDEX) == \
        ["source", "system-pthread", "0.3.26.0.4", "0.3.27.0.1", "0.3.34.0.0"]
    with pytest.raises(UserError, match=r"debian: not a release \(0\.3\.28\) or an index version, or a variant "
                                        r"\(system-pthread, system-openmp, system-serial, source\)"):
        OPENBLAS.parse("0.3.28,debian", INDEX)


def test_bisect_takes_the_builds_beside_a_range_first_and_refuses_fewer_than_three_points_in_one_line(tmp_path, capsys,
                                                                                                       monkeypatch):
    from argparse import Namespace

    from blasbench.commands.releases import release_axis
    from blasbench.setups import parse_setup

    monkeypatch.setattr(OpenBLASReleases, "available", lambda self: INDEX)
    setups = [parse_setup(word) for word in ("scipy-openblas:0.3.26..0.3.28+numpy-only", "system:pthread+numpy-only")]
    _, points = release_axis(Namespace(bisect=True), setups)
    assert points == ["system-pthread", "0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2"]
    # any Debian or source build is a point, by its kind and flavour, with what it was asked for (make variables too)
    axis, points = release_axis(Namespace(bisect=False), [parse_setup("scipy-openblas:0.3.28"),
                                                          parse_setup("source:trixie+TARGET=HASWELL")])
    assert points == ["source-trixie", "0.3.28.0.2"] and str(axis.builds["source-trixie"]) == "source:trixie+TARGET=HASWELL"
    assert main(["threadmap", "--setup", "scipy-openblas:0.3.26", "scipy-openblas:0.3.28", "--bisect",
                 "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --setup scipy-openblas:0.3.26 scipy-openblas:0.3.28: --bisect searches three points or more "
                   "(here 0.3.26.0.4, 0.3.28.0.2): a range, e.g. --setup scipy-openblas:LOW..HIGH; two are compared by the "
                   "axis itself, without --bisect."]


def test_a_numpy_release_means_its_newest_patch_and_a_range_takes_every_minor_between():
    assert NUMPY.parse("1.26..2.2", NUMPY_INDEX) == ["1.26.4", "2.0.2", "2.1.3", "2.2.6"]
    assert NUMPY.parse("1.26.3..2.0.1", NUMPY_INDEX) == ["1.26.4", "2.0.2"]  # a range's ends name minors
    assert NUMPY.parse("2.0.1,1.26,2.4", NUMPY_INDEX) == ["1.26.4", "2.0.1", "2.4.6"]
    with pytest.raises(UserError, match=r"--setup pypi:2\.3: the index has no numpy 2\.3 with a wheel for Python 3\.\d+; "
                                        r"those with one: 1\.25, 1\.26"):
        NUMPY.parse("2.3", NUMPY_INDEX)
    with pytest.raises(UserError, match="--setup pypi:latest: not a release"):
        NUMPY.parse("latest", NUMPY_INDEX)


@pytest.mark.parametrize("spec, message", [
    ("0.3.32", "the index has no scipy-openblas32 0.3.32; its releases: 0.3.26, 0.3.27"),
    ("0.3.23", "older than 0.3.26, whose wheels export unprefixed symbols"),
    ("0.4.0..0.5.0", "the index has no release in that range"),
    ("latest", "latest: not a release (0.3.28) or an index version"),
])
def test_a_release_the_index_lacks_or_the_build_cannot_load_is_one_line(spec, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        OPENBLAS.parse(spec, INDEX)


@pytest.mark.parametrize("options, message", [
    (["--setup", "installed", "scipy-openblas:0.3.26..0.3.34"], "--setup installed: beside scipy-openblas's releases, "
                                                                 "a point is OpenBLAS built otherwise, Debian's"),
    (["--setup", "source", "source+TARGET=ZEN", "scipy-openblas:0.3.26..0.3.34"], "two points beside the releases would "
                                                                                   "share a name (source)"),
    (["--setup", "pypi:2.0", "installed"], "NumPy's releases are measured as PyPI's wheels alone"),
    (["--setup", "pypi:2.0", "scipy-openblas:0.3.28"], "one release series at a time"),
    (["--bisect"], "--bisect needs the releases to search"),
    (["--setup", "pypi:2.0", "pypi:2.4", "--bisect"], "--bisect searches three points or more (here 2.0.2, 2.4.6)"),
    # pip's own answer for this Python: NumPy 1.19 has no wheel for 3.9 and later
    (["--setup", "pypi:1.19"], f"--setup pypi:1.19: the index has no numpy 1.19 with a wheel for Python {sys.version_info.major}."
                               f"{sys.version_info.minor}; those with one: "),
])
def test_release_axes_asked_for_wrongly_are_one_line_before_anything_is_installed(tmp_path, capsys, options, message):
    assert main(["threadmap", *options, "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def release_map(tmp_path, version: str, architecture: str, slow_at_2: float, axis: str = "openblas",
                variant: str | None = None) -> None:
    """A release's record and its map of `solve` at n = 2 and 64: five rounds, 2 threads as fast as one but
    at n = 2, ``slow_at_2`` times one thread's; ``variant``: a side-by-side setup of OpenBLAS, at ``version``."""
    runs = [{"round": r, "threads": threads,
             "cells": [cell("solve", 2, [(slow_at_2 if threads == 2 else 1.0) * (1 + 0.01 * r)]),
                       cell("solve", 64, [1.0 + 0.01 * r])]} for r in range(5) for threads in (1, 2)]
    settings = {"calls": ["solve"], "dtypes": ["float64"], "sizes": [2, 64], "threads": [1, 2], "measurements": 1,
                "rounds": 5, "max_seconds": 1.0}
    directory = tmp_path / "releases" / (variant or version if axis == "openblas" else f"{axis}-{version}")
    write_result(directory / "threadmap.json", {"kind": "threadmap", "settings": settings, "refused": [], "runs": runs,
                                                "environment": None})
    loaded = {"version": version[:6], "architecture": architecture, "threading_layer": "pthreads",
              "filepath": "/lib/libscipy_openblas.so"}
    record = {"kind": "release", "axis": axis, "release": version, "measure": "threadmap", "library": "/lib", "loaded": loaded,
              **({"variant": variant} if variant else {})}
    if axis == "numpy":
        scipys = {**loaded, "version": "0.3.28", "filepath": "/scipy.libs/libscipy_openblas.so"}
        record = {"kind": "release", "axis": axis, "release": version, "measure": "threadmap",
                  "loaded": {**loaded, "version": "0.3.27"}, "installed": {"numpy": version, "scipy": "1.15.3"},
                  "libraries": [loaded, scipys]}
    write_result(directory / "release.json", record)


def test_a_change_between_consecutive_releases_is_found_and_a_new_kernel_set_named_as_packaging(tmp_path):
    """0.3.27 to 0.3.28: `solve` n = 2 at 2 threads 3x slower, while the core type went from Cooperlake to
    SkylakeX (the wheels dropped kernel sets around 0.3.28: a packaging change, not a change of code)."""
    release_map(tmp_path, "0.3.27.0.1", "Cooperlake", 1.0)
    release_map(tmp_path, "0.3.28.0.2", "SkylakeX", 3.0)
    results = Results.load(tmp_path)
    [change] = results.findings["release"]["changes"]
    assert (change["before"], change["after"], change["call"], change["n"], change["threads"]) == \
        ("0.3.27.0.1", "0.3.28.0.2", "solve", 2, 2)
    assert change["verdict"] == "slower" and change["kernels_changed"]
    render_all(results)
    page = (tmp_path / "setups.md").read_text()
    assert "**slower** (3.00x the time, p = 0.00794): the kernel set changed too, a packaging change" in page
    # four cells (n = 2 and 64 at 1 and 2 threads), one comparison each: each a chance of a false alarm
    assert results.findings["release"]["compared"] == {("threadmap", "openblas"): 4}
    assert "4 cells compared between consecutive releases, each a chance of a false alarm" in page
    assert (tmp_path / "releases" / "0.3.28.0.2" / "threadmap.md").exists()
    assert "[Releases](setups.md): 2 OpenBLAS release(s) mapped under one build (0.3.27.0.1 … 0.3.28.0.2); " \
           "1 cell(s) changed between consecutive releases beyond noise, 1 of them with a change of kernel set or build." \
           in (tmp_path / "index.md").read_text()


def test_a_variants_point_sits_by_its_version_and_a_change_next_to_it_is_named_a_change_of_build(tmp_path):
    """Debian's OpenBLAS 0.3.21 (NumPy built against it) and Debian's source compiled here, both 0.3.21, before
    the wheel's 0.3.26: `solve` n = 2 at 2 threads 2x slower from the source build to the wheel, with the same
    core type: still not a change of release alone, since the build changed too."""
    release_map(tmp_path, "0.3.26.0.4", "Haswell", 2.0)
    release_map(tmp_path, "0.3.21", "Haswell", 1.0, variant="system-pthread")
    release_map(tmp_path, "0.3.21", "Haswell", 1.0, variant="source")
    results = Results.load(tmp_path)
    found = results.findings["release"]
    assert [label(r) for r in found["measured"]] == ["0.3.21 (source)", "0.3.21 (system-pthread)", "0.3.26.0.4"]
    [change] = found["changes"]
    assert (change["before"], change["after"], change["build_changed"], change["kernels_changed"]) == \
        ("0.3.21 (system-pthread)", "0.3.26.0.4", True, False)
    render_all(results)
    page = (tmp_path / "setups.md").read_text()
    assert "the build changed too (another build of NumPy, against another OpenBLAS), a packaging change" in page
    assert "| `0.3.21` | setup `system:pthread` | 0.3.21 | Haswell | pthreads | " \
           "[threadmap.md](releases/system-pthread/threadmap.md) |" in page
    assert "3 OpenBLAS release(s) mapped under one build and 2 variant(s) built otherwise" in (tmp_path / "index.md").read_text()


def test_releases_in_version_order_not_by_name(tmp_path):
    for version in ("0.3.9.0.0", "0.3.28.0.2", "0.3.100.0.0"):
        release_map(tmp_path, version, "Haswell", 1.0)
    found = Results.load(tmp_path).findings["release"]
    assert [r["release"] for r in found["measured"]] == ["0.3.9.0.0", "0.3.28.0.2", "0.3.100.0.0"]
    shutil.rmtree(tmp_path / "releases")


RELEASES = ["0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0", "0.3.30.0.8", "0.3.31.22.1", "0.3.33.0.0",
            "0.3.34.0.0"]


MAP = Measure("threadmap", None, 5)


class MadeUp(OpenBLASReleases):
    """bisect's maps, made up: release i's `solve` n = 2 at 1 thread takes ``seconds_of(i)``, five rounds 1%
    apart; ``mapped``: the releases mapped, in order."""

    def __init__(self, seconds_of):
        super().__init__()
        self.seconds_of, self.mapped = seconds_of, []

    def by_round(self, measure, version, under):
        self.mapped.append(version)
        value = self.seconds_of(RELEASES.index(version))
        runs = [{"round": r, "threads": 1, "cells": [cell("solve", 2, [value * (1 + 0.01 * r)])]} for r in range(5)]
        yield {"release": version, "loaded": {}}, {"runs": runs}


def test_bisect_maps_only_the_releases_it_needs_and_confirms_the_step(tmp_path):
    from blasbench.measuring.releases import bisect

    axis = MadeUp(lambda i: 1.0 if i < 5 else 2.0)  # slower from 0.3.31.22.1 on
    [found] = bisect(MAP, axis, RELEASES, tmp_path)
    mapped = axis.mapped
    assert (found["before"], found["after"], found["verdict"]) == ("0.3.30.0.8", "0.3.31.22.1", "slower")
    assert found["confirmed"]
    distinct = set(mapped)
    assert len(distinct) <= 3 + 2  # ceil(log2(8)) + the two ends
    assert mapped[-2:] == ["0.3.30.0.8", "0.3.31.22.1"]  # the pair mapped again, afresh


def test_a_bisect_over_a_build_beside_the_releases_names_a_step_from_the_build_a_change_of_build(tmp_path):
    """Debian's OpenBLAS (built here) first, then the wheel's releases: the step from the build to the first
    release is placed, confirmed, and said to be a change of build as well as of release."""
    from blasbench.measuring.releases import bisect

    points = ["system-pthread", *RELEASES]

    class WithABuild(MadeUp):
        def by_round(self, measure, version, under):
            self.mapped.append(version)
            value = self.seconds_of(points.index(version))
            runs = [{"round": r, "threads": 1, "cells": [cell("solve", 2, [value * (1 + 0.01 * r)])]} for r in range(5)]
            yield {"release": version, "loaded": {}}, {"runs": runs}

    [found] = bisect(MAP, WithABuild(lambda i: 2.0 if i == 0 else 1.0), points, tmp_path)
    assert (found["before"], found["after"], found["verdict"], found["confirmed"]) == \
        ("system-pthread", "0.3.26.0.4", "faster", True)
    assert found["build_changed"]
    assert bisect_line(found, "threadmap").endswith("the build changed too (another build of NumPy, against another "
                                                    "OpenBLAS), a packaging change")


def test_bisect_between_releases_that_do_not_differ_is_one_line(tmp_path):
    from blasbench.measuring.releases import bisect

    with pytest.raises(UserError, match="no change between 0.3.26.0.4 and 0.3.34.0.0 to find"):
        bisect(MAP, MadeUp(lambda i: 1.0), RELEASES, tmp_path)
    assert read_result(tmp_path / "bisect.json", "bisect")["findings"] == []  # the answer is kept, for the report


def test_a_bisects_answer_is_written_into_the_releases_report(tmp_path):
    """Each step a bisect placed, and whether fresh measures confirmed it, is in setups.md and the index
    (it was printed on the terminal only, and the example kept the printout by hand)."""
    from blasbench.measuring.releases import bisect

    bisect(MAP, MadeUp(lambda i: 1.0 if i < 5 else 2.0), RELEASES, tmp_path)
    for version in RELEASES[::7]:  # the ends' maps, as the axis keeps them under releases/
        release_map(tmp_path, version, "Haswell", 1.0)
    render_all(Results.load(tmp_path))
    page, index = (tmp_path / "setups.md").read_text(), (tmp_path / "index.md").read_text()
    assert "## Bisect" in page
    assert re.search(r"- `solve` \(float64\) n = 2 at 1 thread\(s\): 0\.3\.30\.0\.8 [\d.]+ \w?s, 0\.3\.31\.22\.1 [\d.]+ \w?s "
                     r"\(slower\): confirmed on fresh measures \(p = ", page), page
    measured = read_result(tmp_path / "bisect.json", "bisect")["measured"]
    assert f"[Bisect](setups.md#bisect): 0.3.26.0.4 … 0.3.34.0.0, {len(measured)} of 8 releases measured: 1 step(s) " \
           "placed, 1 confirmed on fresh measures." in index


def test_a_history_that_goes_the_other_way_between_is_reported_not_forced_into_one_step(tmp_path):
    from blasbench.measuring.releases import bisect

    axis = MadeUp(lambda i: {3: 0.5}.get(i, 1.0 if i < 6 else 2.0))  # faster at 0.3.29, then slower from 0.3.33
    [found] = bisect(MAP, axis, RELEASES, tmp_path)
    assert found["not_monotone"] == {"release": "0.3.29.0.0", "verdict": "faster"} and "confirmed" not in found


def test_releases_measured_on_two_machines_are_flagged_as_mixed(tmp_path):
    """A release's map resumes only on its own identity (another's is moved aside); maps copied in by
    hand from another host still read as one axis only with the banner that says they are not."""
    import json
    from pathlib import Path

    environment = json.loads((Path(__file__).parent / "data" / "epyc2-a" / "scaling.json").read_text())["environment"]
    for version, host in (("0.3.27.0.1", "node1"), ("0.3.28.0.2", "node2")):
        release_map(tmp_path, version, "Haswell", 1.0)
        path = tmp_path / "releases" / version / "threadmap.json"
        found = json.loads(path.read_text())
        write_result(path, {**found, "environment": {**environment, "host": host}})
    results = Results.load(tmp_path)
    assert results.mixed()["host"] == ["node1", "node2"]
    render_all(results)
    assert "**Mixed provenance:** these results come from several hosts (node1, node2)" in (tmp_path / "index.md").read_text()


def test_points_of_two_axes_are_never_compared_and_a_numpy_point_names_both_openblas(tmp_path):
    """An OpenBLAS axis and a NumPy axis in one directory: each axis's consecutive releases are compared,
    never an OpenBLAS release with a NumPy release; a NumPy point names its SciPy and both bundled OpenBLAS."""
    release_map(tmp_path, "0.3.28.0.2", "SkylakeX", 1.0)
    release_map(tmp_path, "1.26.4", "Haswell", 1.0, axis="numpy")
    release_map(tmp_path, "2.0.2", "Haswell", 3.0, axis="numpy")
    results = Results.load(tmp_path)
    found = results.findings["release"]
    assert found["lines"] == [("threadmap", "openblas"), ("threadmap", "numpy")]
    [change] = found["changes"]
    assert (change["axis"], change["before"], change["after"]) == ("numpy", "NumPy 1.26.4", "NumPy 2.0.2")
    render_all(results)
    page = (tmp_path / "setups.md").read_text()
    assert "| `2.0.2` | 1.15.3 | 0.3.27 | Haswell | pthreads | 0.3.28 (Haswell) | " \
           "[threadmap.md](releases/numpy-2.0.2/threadmap.md) |" in page
    assert (tmp_path / "releases" / "numpy-2.0.2" / "threadmap.md").exists()
    index = (tmp_path / "index.md").read_text()
    assert "1 OpenBLAS release(s) mapped under one build (0.3.28.0.2 … 0.3.28.0.2); 0 cell(s) changed" in index
    assert "2 NumPy release(s) mapped as PyPI's wheels (NumPy 1.26.4 … NumPy 2.0.2); 1 cell(s) changed" in index


def test_a_version_7_release_point_reads_as_a_map_of_an_openblas_release(tmp_path):
    import json

    release_map(tmp_path, "0.3.28.0.2", "SkylakeX", 1.0)
    path = tmp_path / "releases" / "0.3.28.0.2" / "release.json"
    old = {k: v for k, v in json.loads(path.read_text()).items() if k not in ("axis", "measure")}
    path.write_text(json.dumps({**old, "version": 7}))
    assert (read_result(path, "release")["axis"], read_result(path, "release")["measure"]) == ("openblas", "threadmap")


@pytest.mark.slow
def test_numpy_wheel_releases_are_mapped_each_in_its_own_environment_with_the_openblas_it_bundles(tmp_path):
    """Two NumPy releases from the package index, a tiny map of each (NumPy's `solve` alone): each
    point's processes ran the NumPy asked for, and its OpenBLAS is the one its wheel bundles
    (threadpoolctl finds it under numpy.libs), of another release for each."""
    assert main(["threadmap", "--setup", "pypi:1.26.4+numpy-only,pypi:2.4.6+numpy-only", "--calls", "solve", "--sizes", "64",
                 "--threads", "1,2", "--rounds", "1", "--allow-busy", "--results", str(tmp_path)]) == 0
    records = Results.load(tmp_path).findings["release"]["measured"]
    assert [(r["axis"], r["installed"]["numpy"], r["installed"]["scipy"]) for r in records] == \
        [("numpy", "1.26.4", None), ("numpy", "2.4.6", None)]
    assert all("numpy.libs" in r["loaded"]["filepath"] for r in records)
    assert records[0]["loaded"]["version"] != records[1]["loaded"]["version"]
    assert "## NumPy releases" in (tmp_path / "setups.md").read_text()


def sweep_point(tmp_path, version: str, factor: float) -> None:
    """A NumPy release's sweep of the network (epyc2-a's, five repeats, 1% apart), ``factor`` times as long."""
    from pathlib import Path

    base = read_result(Path(__file__).parent / "data" / "epyc2-a" / "scaling.json", "scaling")
    points = [{**p, "repeat": r, "seconds_per_iteration": p["seconds_per_iteration"] * factor * (1 + 0.01 * r)}
              for p in base["points"] if p["repeat"] == 0 for r in range(5)]
    directory = tmp_path / "releases" / f"scaling-numpy-{version}"
    write_result(directory / "scaling.json", {**base, "settings": {**base["settings"], "repeats": 5}, "points": points})
    loaded = {"version": "0.3.27", "architecture": "Zen", "threading_layer": "pthreads", "filepath": "/numpy.libs/x.so"}
    write_result(directory / "release.json", {"kind": "release", "axis": "numpy", "release": version, "measure": "scaling",
                                              "loaded": loaded, "installed": {"numpy": version, "scipy": "1.15.3"},
                                              "libraries": [loaded]})


def test_a_sweep_on_the_axis_reads_each_workloads_change_per_thread_count_beside_the_maps(tmp_path):
    """The network swept under two NumPy releases, 1.5x slower under the second, beside a map of the
    same releases: the sweep's cells change, at every thread count, and are never compared with the map's."""
    sweep_point(tmp_path, "1.26.4", 1.0)
    sweep_point(tmp_path, "2.0.2", 1.5)
    release_map(tmp_path, "2.0.2", "Zen", 1.0, axis="numpy")
    results = Results.load(tmp_path)
    found = results.findings["release"]
    assert found["lines"] == [("scaling", "numpy"), ("threadmap", "numpy")]  # in the registry's order
    assert {(c["measure"], c["rung"], c["threads"], c["verdict"]) for c in found["changes"]} == \
        {("scaling", rung, threads, "slower") for rung in ("0-seed", "4-contiguous") for threads in (1, 2)}
    render_all(results)
    page = (tmp_path / "setups.md").read_text()
    assert "## NumPy releases: thread sweep" in page and "## NumPy releases: threading map" in page
    assert "- `4-contiguous` ([784,300,10], 50,000 examples) at 2 thread(s): NumPy 1.26.4 2.087 s, NumPy 2.0.2 3.131 s" in page
    assert (tmp_path / "releases" / "scaling-numpy-2.0.2" / "scaling.md").exists()
    assert "2 NumPy release(s) swept as PyPI's wheels (NumPy 1.26.4 … NumPy 2.0.2); 4 cell(s) changed" in \
        (tmp_path / "index.md").read_text()


@pytest.mark.slow
def test_a_users_function_is_swept_under_each_numpy_release(tmp_path, monkeypatch):
    """`scaling --workload FILE:FUNCTION --setup pypi:...`: the function swept at 1 and 2 threads under two
    NumPy wheels, each in its own environment (SciPy beside it), its report beside each point."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["scaling", "--setup", "pypi:1.26.4", "pypi:2.4.6", "--workload", "examples/small_solves.py:solve_many",
                 "--workload-args", '{"count": 50}', "--threads", "1,2", "--repeats", "2", "--allow-busy",
                 "--results", str(tmp_path)]) == 0
    records = Results.load(tmp_path).findings["release"]["measured"]
    assert [(r["measure"], r["installed"]["numpy"]) for r in records] == [("scaling", "1.26.4"), ("scaling", "2.4.6")]
    assert all(r["installed"]["scipy"] for r in records)
    assert all((tmp_path / "releases" / f"scaling-numpy-{v}" / name).exists() for v in ("1.26.4", "2.4.6")
               for name in ("release.json", "scaling.json", "scaling.md"))
    assert not (tmp_path / "releases" / "numpy-1.26.4").exists()  # a map of the release would live there
    assert "`solve_many` (`examples/small_solves.py:solve_many`" in (tmp_path / "setups.md").read_text()


def test_a_cluster_reads_each_release_step_within_each_node_then_sets_the_nodes_side_by_side(tmp_path):
    """Two nodes mapped 0.3.27 and 0.3.28: on node1 `solve` n = 2 at 2 threads is 3x slower from 0.3.28, on
    node2 it is not. The job's index reads the step on each node within that node: slower on one, no change on
    the other, and says that the nodes differ."""
    from blasbench.measuring.cluster import ClusterJob, save

    job = ClusterJob(command="threadmap", arguments=["--setup", "scipy-openblas:0.3.27", "scipy-openblas:0.3.28"], nodes=2,
                     results=str(tmp_path), repository="/repo", python="python3", job="41",
                     tasks={"0": {"state": "COMPLETED", "node": "node1"}, "1": {"state": "COMPLETED", "node": "node2"}})
    save(job)
    for task, slow in (("0-node1", 3.0), ("1-node2", 1.0)):
        release_map(tmp_path / "41" / task, "0.3.27.0.1", "SkylakeX", 1.0)
        release_map(tmp_path / "41" / task, "0.3.28.0.2", "SkylakeX", slow)
    results = Results.load(tmp_path / "41")
    [step] = results.findings["cluster"]["releases"]
    assert (step["before"], step["after"], step["call"], step["n"], step["threads"]) == \
        ("0.3.27.0.1", "0.3.28.0.2", "solve", 2, 2)
    assert {node: found["verdict"] for node, found in step["nodes"].items()} == {"node1": "slower", "node2": "no change"}
    render_all(results)
    index = (tmp_path / "41" / "index.md").read_text()
    assert "## Releases, node by node" in index
    assert "| OpenBLAS threading map | `solve` (float64) n = 2 at 2 thread(s) | 0.3.27.0.1 → 0.3.28.0.2 | slower (3.00x) " \
           "| no change |" in index
    assert "The nodes agree on 0 of 1 step(s)" in index


class MadeUpProcesses:
    """A map's processes, made up (``run_fresh`` of :mod:`blasbench.measuring.threadmap`): `solve` n = 2 takes
    1 ms a call and n = 64 0.5 s at the release 0.3.27.0.1, 1.5 s at any other, past --call-limit 1, where a
    process not told the sizes times it once and skips it. ``asked``: each process's release, thread count
    and ``--only`` sizes, in the order they ran."""

    def __init__(self, monkeypatch):
        from blasbench.measuring import threadmap

        self.asked = []
        monkeypatch.setattr(threadmap, "run_fresh", self)

    def __call__(self, command, env):
        import json
        import subprocess

        release, threads = env["MADE_UP_RELEASE"], int(env["OPENBLAS_NUM_THREADS"])
        only = json.loads(command[command.index("--only") + 1]) if "--only" in command else None
        self.asked.append((release, threads, only))
        seconds = {2: 1e-3, 64: 0.5 if release == "0.3.27.0.1" else 1.5}
        cells = []
        for n in (2, 64):
            if only is None and seconds[n] > 1.0:
                cells.append({"call": "solve", "dtype": "float64", "n": n, "skipped": "one call took over 1 s"})
                break
            if only is None or n <= only["solve"]["float64"]:
                cells.append(cell("solve", n, [seconds[n] / threads]))
        blas = {"user_api": "blas", "internal_api": "openblas", "num_threads": threads, "filepath": "/made/up.so"}
        found = {"cells": cells, "environment": {"threadpool_info": [blas]}}
        return subprocess.CompletedProcess(command, 0, json.dumps(found), "")


class MadeUpReleases(OpenBLASReleases):
    """Releases that need no library: each point's processes are told their release in a variable."""

    def point(self, version):
        import sys

        return sys.executable, {"MADE_UP_RELEASE": version}, {}

    def ran(self, version, result, asked):
        return {"loaded": {}}


def made_up_axis(monkeypatch, tmp_path, releases: list[str]) -> list[tuple]:
    """The made-up map (`solve` n = 2 and 64, 1 and 2 threads, two rounds) on an axis of ``releases``: what was asked."""
    from blasbench.measuring.releases import map_measure, run_release_axis
    from blasbench.measuring.threadmap import MapSettings

    processes = MadeUpProcesses(monkeypatch)
    settings = MapSettings(calls=("solve",), sizes=(2, 64), threads=(1, 2), rounds=2, more_rounds=0)
    assert run_release_axis(map_measure(settings), MadeUpReleases(), releases, tmp_path) == []
    return processes.asked


def test_every_point_of_an_axis_maps_the_cells_its_first_point_mapped(monkeypatch, tmp_path):
    """`solve` n = 64 takes 0.5 s a call at the first release and 1.5 s at the second, past --call-limit 1:
    a map of the second alone would time it once and skip it; on the axis it is measured there as at the
    first (every process is asked for the first point's sizes), so its change is read, not dropped."""
    asked = made_up_axis(monkeypatch, tmp_path, ["0.3.27.0.1", "0.3.28.0.2"])
    assert asked[0][::2] == ("0.3.27.0.1", None)  # the first point's first process finds the sizes
    assert {only["solve"]["float64"] for *_, only in asked[1:]} == {64}  # every other process is asked for them
    second = read_result(tmp_path / "releases" / "0.3.28.0.2" / "threadmap.json", "threadmap")
    assert {c["n"] for run in second["runs"] for c in run["cells"] if "seconds" in c} == {2, 64}


def test_an_axis_maps_a_round_of_every_release_before_the_next_round_of_any(monkeypatch, tmp_path):
    """Three releases, two rounds of 1 and 2 threads each: the first round of all three, then the second of
    all three, as a map interleaves its thread counts, so that the machine's drift over minutes falls on
    every release alike (each map's own rounds counterbalanced: 1, 2, then 2, 1); rerun, the axis measures nothing
    again (each point resumes from its file)."""
    releases = ["0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0"]
    asked = made_up_axis(monkeypatch, tmp_path, releases)
    assert [(release, threads) for release, threads, _ in asked] == \
        [(release, threads) for order in ((1, 2), (2, 1)) for release in releases for threads in order]
    assert made_up_axis(monkeypatch, tmp_path, releases) == []


def test_compare_of_a_release_axis_with_a_single_run_names_the_points_to_compare(tmp_path, capsys):
    """A map set beside a directory holding a release axis shared no measure ("no measure in both runs"), though
    each of the axis's points is a map like it: the error names the point directories, which compare."""
    import json
    from pathlib import Path

    environment = json.loads((Path(__file__).parent / "data" / "epyc2-a" / "scaling.json").read_text())["environment"]
    for version in ("0.3.27.0.1", "0.3.28.0.2"):
        release_map(tmp_path / "axis", version, "Haswell", 1.0)
        path = tmp_path / "axis" / "releases" / version / "threadmap.json"
        write_result(path, {**json.loads(path.read_text()), "environment": environment})
    shutil.copytree(tmp_path / "axis" / "releases" / "0.3.27.0.1", tmp_path / "single")
    assert main(["compare", str(tmp_path / "single"), str(tmp_path / "axis"), "--results", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'axis'} holds a release axis, whose points are result directories of their own: "
                   f"compare one of them, e.g. {tmp_path / 'axis' / 'releases' / '0.3.27.0.1'} (2 in all)."]
    assert main(["compare", str(tmp_path / "single"), str(tmp_path / "axis" / "releases" / "0.3.28.0.2"),
                 "--results", str(tmp_path / "c")]) == 0
