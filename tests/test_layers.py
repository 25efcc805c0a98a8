"""The layers of the package: data flows one way (build -> verify -> measure -> results -> analysis ->
render), every kind of result is read, analysed and rendered through one registry each, and each
analysis runs once per directory read."""

from __future__ import annotations

import ast
import copy
import shutil
import sys
from pathlib import Path

import pytest

from blasbench import render
from blasbench.render import RENDERERS, render_all
from blasbench.results.directory import Results
from blasbench.results.kinds import KINDS, read_result

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "blasbench"
DATA = Path(__file__).parent / "data"

# The layers that read results, and those that build or measure: no reader imports a runner, and building
# (what measuring needs first) imports neither what measures nor what reports.
READERS = ("results", "render", "facts", "setups", "store")
RUNNERS = ("building", "measuring")
ABOVE_BUILDING = ("measuring", "render", "commands")


def module_imports() -> dict[str, set[str]]:
    """blasbench's modules (dotted, without the package) -> the blasbench modules they import, at module level
    or inside a function (a late import is an edge all the same: it only hides a circle from the interpreter)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        here = parts[:-1] if is_package else parts[:-1]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[:len(here) - node.level + 1] if node.level > 1 else here
                target = [*base, *(node.module.split(".") if node.module else [])]
                for alias in node.names:
                    candidate = ".".join([*target, alias.name])
                    imported.add(candidate if (PACKAGE / Path(*candidate.split("."))).with_suffix(".py").exists()
                                 or (PACKAGE / Path(*candidate.split("."))).is_dir() else ".".join(target))
        found[name] = {i for i in imported if i}
    return found


def layer(module: str) -> str:
    return module.split(".")[0]


def test_no_reader_of_results_imports_a_module_that_builds_or_measures():
    offenders = [(module, imported) for module, imports in module_imports().items() if layer(module) in READERS
                 for imported in imports if layer(imported) in RUNNERS]
    assert not offenders, offenders


def test_building_imports_nothing_that_measures_or_reports():
    offenders = [(module, imported) for module, imports in module_imports().items() if layer(module) == "building"
                 for imported in imports if layer(imported) in ABOVE_BUILDING]
    assert not offenders, offenders


def test_measuring_renders_no_report_itself():
    """The commands render what a measurement wrote (measuring -> results -> render, one way)."""
    offenders = [(module, imported) for module, imports in module_imports().items() if layer(module) == "measuring"
                 for imported in imports if layer(imported) == "render"]
    assert not offenders, offenders


def test_the_package_has_no_import_circle():
    graph = module_imports()
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for imported in graph.get(module, ()):
            if imported == module or imported not in graph:
                continue
            assert state.get(imported) != 1, " -> ".join([*trail, module, imported])
            if imported not in state:
                visit(imported, [*trail, module])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_every_kind_of_result_has_one_renderer_and_every_renderer_a_registered_kind():
    rendered = [kind for renderer in RENDERERS for kind in renderer.KINDS]
    assert sorted(rendered) == sorted(kind.name for kind in KINDS)


def test_a_render_analyses_each_result_once(tmp_path, monkeypatch):
    """One `report` of a directory with a build, a profile, a sweep, the experiments, a bench and six
    variants, each with its sweep: each analysis runs once per result (the directory's sweep was
    analysed four times, its profile twice)."""
    calls: dict[str, list[int]] = {}
    kind_modules = [sys.modules[type(kind).__module__] for kind in KINDS]
    for name in ("analyse_scaling", "analyse_profile", "analyse_threadmap", "analyse_variants", "analyse_why"):
        original = next(getattr(module, name) for module in kind_modules if hasattr(module, name))

        def counted(*args, _name=name, _original=original, **kwargs):
            calls.setdefault(_name, []).append(id(args[0]))
            return _original(*args, **kwargs)

        for module in kind_modules:  # a kind's analysis is in its module; the kinds call it by their own names
            if hasattr(module, name):
                monkeypatch.setattr(module, name, counted)
    shutil.copytree(DATA / "epyc2-a", tmp_path / "reports")
    render_all(Results.load(tmp_path / "reports"))
    assert {name: len(ids) for name, ids in calls.items()} == {
        "analyse_scaling": 1 + 6, "analyse_profile": 1, "analyse_variants": 1, "analyse_why": 1}
    assert all(len(set(ids)) == len(ids) for ids in calls.values())  # no result analysed twice


def test_results_measured_on_different_core_counts_are_flagged_as_mixed(tmp_path):
    """identity() records the usable cores, and a directory whose results differ in them says so (the
    list of identity fields compared had left them out)."""
    shutil.copytree(DATA / "epyc2-a", tmp_path / "reports")
    results = Results.load(tmp_path / "reports")
    assert "usable_cores" not in results.mixed()
    results.found["bench"] = bench = copy.deepcopy(results["bench"])
    bench["environment"]["cpu"]["usable_cores"] = 16
    assert results.mixed()["usable_cores"] == ["2", "16"]
    assert "usable core counts (2, 16)" in "".join(render.format.mixed_banner(results.mixed()))


def test_the_glossary_defines_every_verdict_and_word_of_the_rule_the_reports_print():
    from blasbench.results.change import VERDICTS

    glossary = " ".join((ROOT / "docs" / "glossary.md").read_text().lower().split())
    for word in (*VERDICTS, "beyond noise", "within noise", "change factor", "verdict", "round", "measurement",
                 "reference answer", "threads unused", "release axis", "gate", "further round", "counterbalanced",
                 "holm's control", "undecidable", "a/a", "power", "kernel set", "auto-ranged", "ccache"):
        assert f"**{word}**" in glossary, word


class Toy:
    """A kind of result made up here, the way a new one is added: a Kind subclass, registered, and a renderer,
    registered. Nothing else in the package names it."""

    from blasbench.results.kinds import Kind as _Kind

    class Kind(_Kind):
        name, file = "toy", "toy.json"
        required = ("seconds",)
        table, measure_title = "toy", "Toy (seconds per call)"

        def analyse(self, result: dict) -> dict:
            from blasbench.results.stats import summarize

            return {"summary": {**summarize(result["seconds"]), "processes": result["seconds"]}}

        def measures(self, result: dict, findings: dict) -> dict:
            return {("toy call", "a toy workload", 1): findings["summary"]}

    KINDS = ("toy",)

    @staticmethod
    def pages(results, out) -> None:
        out.page("toy.md", f"# Toy\n\nmedian {results.findings['toy']['summary']['median']:.2f} s\n")

    @staticmethod
    def headline(results) -> list[str]:
        return [f"- [Toy](toy.md): median {results.findings['toy']['summary']['median']:.2f} s."]


def test_a_new_result_kind_is_one_class_and_a_registration_end_to_end(tmp_path):
    """Registered, a toy kind is written and read back checked, analysed once, rendered into its page and the
    index, and compared by the rule, with no edit anywhere else (the gate fails it where it is 1.5x slower)."""
    from blasbench.cli import main
    from blasbench.results import kinds

    kind = kinds.register(Toy.Kind())
    render.register(Toy)
    try:
        for name, scale in (("a", 1.0), ("b", 1.5)):
            seconds = [scale * (1 + 0.01 * i) for i in range(6)]
            kinds.write_result(tmp_path / name / "toy.json", {"kind": "toy", "seconds": seconds,
                                                              "environment": {"host": "toyhost", "cpu": {"model": "toy"}}})
            results = Results.load(tmp_path / name)
            assert results.findings["toy"]["summary"]["median"] == pytest.approx(scale * 1.025)
            render_all(results)
            assert (tmp_path / name / "toy.md").exists()
            assert "- [Toy](toy.md): median" in (tmp_path / name / "index.md").read_text()
        assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--results", str(tmp_path / "c"),
                     "--fail-on", "slower"]) == 1
        assert "## Toy (seconds per call)" in (tmp_path / "c" / "compare.md").read_text()
    finally:
        kinds.KINDS.remove(kind)
        del kinds.BY_NAME[kind.name]
        render.RENDERERS.remove(Toy)


class Tally:
    """A measure made up here, the way a new one is added: a Kind subclass with cells, registered, and a
    renderer, registered. Nothing else in the package names it: the release axis, its analysis (by the rule),
    its report and bisect take it from the registries."""

    from blasbench.results.kinds import Kind as _Kind

    class Kind(_Kind):
        name, file = "tally", "tally.json"
        required = ("rounds",)
        cell_fields, cell_unit, point_title, point_verb = ("task",), "tally", "tally", "tallied"

        def cells(self, result: dict) -> dict:
            """One cell, `add` at one thread: a value per round (each a process of its own)."""
            from blasbench.results.stats import summarize

            values = [r["seconds"] for r in result["rounds"]]
            return {1: {("add",): {**summarize(values), "processes": values}}}

    KINDS = ("tally",)

    @staticmethod
    def pages(results, out) -> None:
        pass

    @staticmethod
    def headline(results) -> list[str]:
        return []

    @staticmethod
    def point_pages(out, where: str, result: dict, analysed) -> None:
        out.page(f"{where}tally.md", f"# Tally\n\n{len(result['rounds'])} rounds\n")


def test_a_new_measure_is_a_kind_with_cells_and_a_registration_measured_along_an_axis_end_to_end(tmp_path):
    """Registered, a made-up measure runs at each point of a release axis (one round of each in turn, each point's
    record and result written), its step between two releases is found by the rule and written into setups.md
    with its own point pages and tables, and bisect places the step, with no edit anywhere else."""
    from blasbench.measuring.releases import Axis, Measure, bisect, run_release_axis
    from blasbench.results import kinds
    from blasbench.store import write_json

    releases = ["0.3.26.0.4", "0.3.27.0.1", "0.3.28.0.2", "0.3.29.0.0"]

    class Points(Axis):
        name, what, setup, depth = "openblas", "OpenBLAS release", "scipy-openblas", 3

        def point(self, version: str) -> tuple[str, dict, dict]:
            return sys.executable, {"TALLY_RELEASE": version}, {}

        def ran(self, version: str, result: dict, asked: dict) -> dict:
            return {"loaded": {"version": version, "architecture": "Haswell", "threading_layer": "pthreads",
                               "filepath": "libscipy_openblas.so"}}

    def by_round(path: Path, python: str, env: dict):
        slower = releases.index(env["TALLY_RELEASE"]) >= 2  # 2x slower from 0.3.28 on
        rounds = []
        for r in range(5):
            rounds.append({"seconds": (2.0 if slower else 1.0) * (1 + 0.01 * r)})
            write_json(path, result := {"kind": "tally", "rounds": rounds})
            yield result

    kind = kinds.register(Tally.Kind())
    render.register(Tally)
    try:
        measure = Measure("tally", by_round, 5)
        assert run_release_axis(measure, Points(), releases, tmp_path / "axis") == []
        assert (tmp_path / "axis" / "releases" / "tally-0.3.28.0.2" / "tally.json").exists()
        results = Results.load(tmp_path / "axis")
        [change] = results.findings["release"]["changes"]
        assert (change["before"], change["after"], change["task"], change["verdict"]) == \
            ("0.3.27.0.1", "0.3.28.0.2", "add", "slower")
        render_all(results)
        page = (tmp_path / "axis" / "setups.md").read_text()
        assert "## OpenBLAS releases: tally" in page and "### `add`: time per tally, and the speedup" in page
        assert "- `add` at 1 thread(s): 0.3.27.0.1 1.02 s, 0.3.28.0.2 2.04 s: **slower** (2.00x the time" in page
        assert (tmp_path / "axis" / "releases" / "tally-0.3.28.0.2" / "tally.md").exists()
        assert "4 OpenBLAS release(s) tallied under one build" in (tmp_path / "axis" / "index.md").read_text()
        [found] = bisect(measure, Points(), releases, tmp_path / "bisect")
        assert (found["before"], found["after"], found["confirmed"]) == ("0.3.27.0.1", "0.3.28.0.2", True)
    finally:
        kinds.KINDS.remove(kind)
        del kinds.BY_NAME[kind.name], kinds.MEASURED[kind.name]
        render.RENDERERS.remove(Tally)


def test_a_new_setup_kind_is_one_class_and_a_registration_measured_side_by_side_end_to_end(tmp_path, monkeypatch):
    """Registered, a made-up setup kind (this environment, as another kind would make one) is parsed by
    `--setup`, its environment made by its own method, its runtime limits probed and its calls mapped beside
    `installed`'s, a round of each in turn, and both reported in setups.md, with no edit anywhere else."""
    from blasbench.cli import main
    from blasbench.setups import SETUP_KINDS, SetupKind, register_setup_kind

    made = []

    class Borrowed(SetupKind):
        def environment(self, setup, name, make) -> dict:
            made.append(name)
            return make.here(setup)

    register_setup_kind(Borrowed("borrowed", "this environment's NumPy, borrowed by a test", option="flavour", default="as-is"))
    monkeypatch.chdir(ROOT)
    try:
        assert main(["threadmap", "--setup", "borrowed+numpy-only", "installed+numpy-only", "--allow-busy", "--calls", "a @ b",
                     "--sizes", "16", "256", "--threads", "1", "2", "--rounds", "2", "--more-rounds", "0",
                     "--results", str(tmp_path)]) == 0
    finally:
        del SETUP_KINDS["borrowed"]
    assert made == ["borrowed-as-is"]
    for name in ("borrowed-as-is", "installed"):
        record = read_result(tmp_path / "variants" / name / "variant.json", "variant")
        assert record["variant"]["setup"] == name.replace("-", ":", 1) + "+numpy-only" and record["limits"]
        mapped = read_result(tmp_path / "variants" / name / "threadmap.json", "threadmap")
        assert {run["round"] for run in mapped["runs"]} == {0, 1}
    report = (tmp_path / "setups.md").read_text()
    assert all(f"- [`{name}`](variants/{name}/threadmap.md): float64 on " in report for name in ("borrowed-as-is", "installed"))
