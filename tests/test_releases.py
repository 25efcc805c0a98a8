"""OpenBLAS releases as an axis: which index version a release means, what is refused before
anything is installed, and what the release kind finds and reports across releases."""

from __future__ import annotations

import shutil

import pytest
from test_threadmap import cell

from blasbench import UserError
from blasbench.cli import main
from blasbench.measuring.releases import parse_axis, tag_build
from blasbench.render import render_all
from blasbench.results.directory import Results
from blasbench.results.kinds import write_result

# scipy-openblas32's index on 2026-12-04, as `pip index versions` lists it (a part)
INDEX = ["0.3.23.293.2", "0.3.26.0.1", "0.3.26.0.4", "0.3.27.0.1", "0.3.27.44.6", "0.3.28.0.1", "0.3.28.0.2",
         "0.3.29.0.0", "0.3.29.265.1", "0.3.31.22.0", "0.3.31.22.1", "0.3.31.188.0", "0.3.33.0.0", "0.3.34.0.0",
         "0.3.34.481.3"]


def test_a_release_means_its_tags_newest_build_or_else_the_first_snapshot_after_it():
    assert tag_build("0.3.28", INDEX) == "0.3.28.0.2" and tag_build("0.3.31", INDEX) == "0.3.31.22.1"
    assert tag_build("0.3.32", INDEX) is None


def test_a_range_takes_every_release_between_by_its_tag_and_a_list_takes_exact_versions_too():
    assert parse_axis("0.3.26..0.3.29", INDEX) == ["0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0"]
    assert parse_axis("0.3.34,0.3.27.44.6,0.3.29", INDEX) == ["0.3.27.44.6", "0.3.29.0.0", "0.3.34.0.0"]


@pytest.mark.parametrize("spec, message", [
    ("0.3.32", "the index has no scipy-openblas32 0.3.32; its releases: 0.3.26, 0.3.27"),
    ("0.3.23", "older than 0.3.26, whose wheels export unprefixed symbols"),
    ("0.4.0..0.5.0", "the index has no release in that range"),
    ("latest", "'latest' is not a release (0.3.28) or an index version"),
])
def test_a_release_the_index_lacks_or_the_build_cannot_load_is_one_line(spec, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_axis(spec, INDEX)


def test_the_release_axis_needs_a_build_against_scipy_openblas(tmp_path, capsys):
    assert main(["threadmap", "--installed", "--openblas-releases", "0.3.26..0.3.34", "--results", str(tmp_path)]) == 2
    assert "add --provider scipy-openblas" in capsys.readouterr().err


def release_map(tmp_path, version: str, architecture: str, slow_at_2: float) -> None:
    """A release's record and its map of `solve` at n = 2 and 64: five rounds, 2 threads as fast as one but
    at n = 2, ``slow_at_2`` times one thread's."""
    runs = [{"round": r, "threads": threads,
             "cells": [cell("solve", 2, [(slow_at_2 if threads == 2 else 1.0) * (1 + 0.01 * r)]),
                       cell("solve", 64, [1.0 + 0.01 * r])]} for r in range(5) for threads in (1, 2)]
    settings = {"calls": ["solve"], "dtypes": ["float64"], "sizes": [2, 64], "threads": [1, 2], "measurements": 1,
                "rounds": 5, "max_seconds": 1.0}
    directory = tmp_path / "releases" / version
    write_result(directory / "threadmap.json", {"kind": "threadmap", "settings": settings, "refused": [], "runs": runs,
                                                "environment": None})
    write_result(directory / "release.json", {"kind": "release", "release": version, "library": "/lib",
                                              "loaded": {"version": version[:6], "architecture": architecture,
                                                         "threading_layer": "pthreads", "filepath": "/lib/libscipy_openblas.so"}})


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
    page = (tmp_path / "releases.md").read_text()
    assert "**slower** (3.00x the time, p = 0.00794): the kernel set changed too, a packaging change" in page
    assert (tmp_path / "releases" / "0.3.28.0.2" / "threadmap.md").exists()
    assert "[Releases](releases.md): 2 OpenBLAS release(s) mapped under one build (0.3.27.0.1 … 0.3.28.0.2); " \
           "1 cell(s) changed between consecutive releases beyond noise, 1 of them with a change of kernel set." \
           in (tmp_path / "index.md").read_text()


def test_releases_in_version_order_not_by_name(tmp_path):
    for version in ("0.3.9.0.0", "0.3.28.0.2", "0.3.100.0.0"):
        release_map(tmp_path, version, "Haswell", 1.0)
    found = Results.load(tmp_path).findings["release"]
    assert [r["release"] for r in found["measured"]] == ["0.3.9.0.0", "0.3.28.0.2", "0.3.100.0.0"]
    shutil.rmtree(tmp_path / "releases")


RELEASES = ["0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0", "0.3.30.0.8", "0.3.31.22.1", "0.3.33.0.0",
            "0.3.34.0.0"]


def fake_maps(monkeypatch, seconds_of) -> list[str]:
    """bisect's maps, made up: release i's `solve` n = 2 at 1 thread takes ``seconds_of(i)``, five rounds 1%
    apart. Returns the releases mapped, in order."""
    from blasbench.measuring import releases

    mapped = []

    def map_release(settings, version, directory, python=None):
        mapped.append(version)
        value = seconds_of(RELEASES.index(version))
        runs = [{"round": r, "threads": 1, "cells": [cell("solve", 2, [value * (1 + 0.01 * r)])]} for r in range(5)]
        return {"release": version, "loaded": {}}, {"runs": runs}

    monkeypatch.setattr(releases, "map_release", map_release)
    return mapped


def test_bisect_maps_only_the_releases_it_needs_and_confirms_the_step(monkeypatch, tmp_path):
    from blasbench.measuring.releases import bisect

    mapped = fake_maps(monkeypatch, lambda i: 1.0 if i < 5 else 2.0)  # slower from 0.3.31.22.1 on
    [found] = bisect(None, RELEASES, tmp_path)
    assert (found["before"], found["after"], found["verdict"]) == ("0.3.30.0.8", "0.3.31.22.1", "slower")
    assert found["confirmed"]
    distinct = set(mapped)
    assert len(distinct) <= 3 + 2  # ceil(log2(8)) + the two ends
    assert mapped[-2:] == ["0.3.30.0.8", "0.3.31.22.1"]  # the pair mapped again, afresh


def test_bisect_between_releases_that_do_not_differ_is_one_line(monkeypatch, tmp_path):
    from blasbench.measuring.releases import bisect

    fake_maps(monkeypatch, lambda i: 1.0)
    with pytest.raises(UserError, match="no change between 0.3.26.0.4 and 0.3.34.0.0 to find"):
        bisect(None, RELEASES, tmp_path)


def test_a_history_that_goes_the_other_way_between_is_reported_not_forced_into_one_step(monkeypatch, tmp_path):
    from blasbench.measuring.releases import bisect

    fake_maps(monkeypatch, lambda i: {3: 0.5}.get(i, 1.0 if i < 6 else 2.0))  # faster at 0.3.29, then slower from 0.3.33
    [found] = bisect(None, RELEASES, tmp_path)
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
