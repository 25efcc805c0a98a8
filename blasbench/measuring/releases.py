"""Releases as an axis: the same measure (a threading map, or a sweep of the network or of a user's
function) under each release of OpenBLAS or of NumPy, without a compile per release.

- **OpenBLAS releases** (:class:`OpenBLASReleases`): NumPy (and SciPy) built once against the
  ``scipy-openblas32`` wheel, then each release of that wheel loaded in its place. The build's
  modules find ``libscipy_openblas.so`` through their RUNPATH, which the loader searches after
  ``LD_LIBRARY_PATH``: a release's ``lib`` directory put first there is loaded instead. That it was
  is measured, not assumed: each map's processes record what threadpoolctl reports (NumPy's
  ``show_config()`` reports the build-time release), and a release whose library reports another
  version is refused in one line. Releases before 0.3.26 export unprefixed symbols, which a build
  against the prefixed ones cannot load: they are refused before anything is installed. Beside
  them, the side-by-side setups of OpenBLAS are points too (``system-pthread``: Debian's;
  ``source``: compiled here from Debian's source package), with NumPy (and SciPy) built against
  each in an environment of its own: such a point differs from the wheels' in its build as well as
  its release, and the report says so.
- **NumPy releases** (:class:`NumPyReleases`): PyPI's NumPy wheels as users install them, each in
  its own virtual environment under the cache (with the SciPy pip picks beside it, unless NumPy's
  calls alone are mapped), each with the OpenBLAS it bundles, as threadpoolctl reports it.

The points are measured a round of each in turn (:func:`measure_together`), as a map takes its
thread counts: a machine that drifts over the half hour an axis can take shifts them all alike.

    <results>/releases/<point>/release.json     what was asked for, installed and loaded
    <results>/releases/<point>/threadmap.json   the measure at that point (or scaling.json)

where ``<point>`` is the OpenBLAS index version (``0.3.28.0.2``), the variant (``system-pthread``) or
``numpy-<version>``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .. import UserError, last_line, pins
from ..building.providers import setup_provider
from ..building.providers.pypi import ScipyOpenBLASProvider
from ..results.change import beyond_noise, decide
from ..results.identity import blas_libraries
from ..results.kinds import MEASURED, write_result
from ..results.kinds.release import key_fields, point_directory, version_tuple
from ..setups import VARIANTS, Setup
from .sweep import ScalingSettings, in_turn, sweep_repeats
from .threadmap import MapSettings, map_rounds, sizes_of
from .variants import built_environment, install_project, project_root, virtual_environment


def index_versions(distribution: str, python: str = sys.executable) -> list[str]:
    """Every version of ``distribution`` the package index has (pip's own listing), oldest first."""
    run = subprocess.run([python, "-m", "pip", "index", "versions", distribution], capture_output=True, text=True)
    listed = re.search(r"Available versions: (.*)", run.stdout)
    if run.returncode != 0 or not listed:
        raise UserError(f"pip could not list {distribution}'s releases ({last_line(run.stderr)}): "
                        "check the network or PIP_INDEX_URL.")
    return released(listed.group(1))


def released(listed: str) -> list[str]:
    """The releases (no pre-releases) of a version list as pip prints it, comma-separated, oldest first."""
    return sorted((v.strip() for v in listed.split(",") if re.fullmatch(r"[\d.]+", v.strip())), key=version_tuple)


def wheel_versions(distribution: str, python: str = sys.executable) -> list[str]:
    """Every version of ``distribution`` with a wheel ``python`` can install, oldest first: pip's own answer
    (its resolver, asked for a version no index has with binaries only, lists those it could take)."""
    run = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--only-binary", ":all:", "--no-deps",
                          "--ignore-installed", f"{distribution}==0.0.0.dev0"], capture_output=True, text=True)
    listed = re.search(r"\(from versions: ([^)]*)\)", run.stderr)
    if not listed:
        raise UserError(f"pip could not list {distribution}'s wheels for this Python ({last_line(run.stderr)}): "
                        "check the network or PIP_INDEX_URL.")
    return released(listed.group(1))


def loaded_blas(result: dict, where: str = "") -> dict:
    """The library whose path contains ``where`` (``numpy.libs``: NumPy's own where SciPy bundles
    another), else the first."""
    found = blas_libraries(result.get("environment"))
    return next((lib for lib in found if where and where in lib.get("filepath", "")), found[0] if found else {})


def blas_fields(library: dict) -> dict:
    return {k: library.get(k) for k in ("version", "architecture", "threading_layer", "filepath")}


@dataclass(frozen=True)
class Measure:
    """What each point of an axis measures: ``kind`` names the result beside ``release.json`` (a registered kind
    with cells, :data:`blasbench.results.kinds.MEASURED`),
    ``by_round`` measures it into a path with a Python and the variables every process gets (resumable,
    as ever), giving the result after each of its ``count`` rounds (a sweep's repeats) and, where
    ``further``, once more after the further rounds; ``following(result)``, where given, is what the
    points after one that gave ``result`` measure."""

    kind: str
    by_round: Callable[[Path, str, dict], Iterator[dict]]
    count: int
    further: bool = False
    following: Callable[[dict], Measure] | None = None

    def after(self, result: dict) -> Measure:
        """The measure of the points after the one that gave ``result``."""
        return self.following(result) if self.following else self


def map_measure(settings: MapSettings) -> Measure:
    """A threading map at each point; every point after the first maps the cells the first mapped, so
    that a call grown slower than ``--max-seconds`` at a later release is measured there, not dropped
    from the comparison (and no later point times a call once only to skip it)."""
    def following(result: dict) -> Measure:
        return map_measure(replace(settings, largest=sizes_of(result)))

    return Measure("threadmap", lambda path, python, env: map_rounds(settings, path, python, env), settings.rounds,
                   True, following if settings.largest is None else None)


def sweep_measure(settings: ScalingSettings) -> Measure:
    return Measure("scaling", lambda path, python, env: sweep_repeats(settings, path, python, env), settings.repeats)


class Axis:
    """One kind of release: which versions the index has, what a release named by its leading
    numbers means, and how the map runs under one."""

    name: str  # the record's "axis"
    what: str  # "OpenBLAS release"
    setup: str  # the setup kind whose releases are the points (--setup KIND:RELEASE)
    distribution: str  # on the package index
    depth: int  # the numbers naming a release (0.3.28: 3; NumPy's 2.0: 2)
    first: tuple[int, ...] = ()  # the oldest release a point can be
    variants: tuple[str, ...] = ()  # points named by their side-by-side name, not a version: built here
    offered = ""  # what the index's versions are, where not every one it has (" with a wheel for Python 3.11")

    def available(self) -> list[str]:
        return index_versions(self.distribution)

    def newest(self, release: str, available: list[str]) -> str | None:
        """The index version a release names: its newest."""
        builds = [v for v in available if v.split(".")[:self.depth] == release.split(".")]
        return max(builds, key=version_tuple) if builds else None

    def too_old(self, version: str) -> str:
        return f"older than {'.'.join(map(str, self.first))}"

    def parse(self, spec: str, available: list[str]) -> list[str]:
        """A list of ranges ``LOW..HIGH`` (every release between, each by :meth:`newest`), releases,
        exact index versions and variants: the variants first, then the index versions, oldest first. A
        release the index lacks, or one too old to be a point, is one line."""
        releases = sorted({".".join(v.split(".")[:self.depth]) for v in available}, key=version_tuple)
        wanted, variants = [], []
        for word in (word.strip() for word in spec.split(",") if word.strip()):
            if word in self.variants:
                variants.append(word)
            elif ".." in word:
                low, high = (version_tuple(end)[:self.depth] for end in word.split("..", 1))
                if not (between := [r for r in releases if low <= version_tuple(r) <= high]):
                    raise UserError(f"--setup {self.setup}:{word}: the index has no release in that range{self.offered}; "
                                    f"it has {', '.join(releases)}.")
                wanted += between
            else:
                wanted.append(word)
        chosen = []
        for word in wanted:
            if not re.fullmatch(r"\d+(\.\d+){%d,4}" % (self.depth - 1), word):
                example = ".".join(["0", "3", "28"][:self.depth]) if self.first else "2.0"
                variants_too = f", or a variant ({', '.join(self.variants)})" if self.variants else ""
                raise UserError(f"--setup {self.setup}:{word}: not a release ({example}) or an index version{variants_too}.")
            if version_tuple(word)[:len(self.first)] < self.first:
                raise UserError(f"--setup {self.setup}:{word}: {word} is {self.too_old(word)}.")
            found = word if word in available else (self.newest(word, available) if word.count(".") == self.depth - 1 else None)
            if found is None:
                raise UserError(f"--setup {self.setup}:{word}: the index has no {self.distribution} {word}{self.offered}; "
                                f"{'those with one' if self.offered else 'its releases'}: "
                                f"{', '.join(r for r in releases if version_tuple(r) >= self.first)}.")
            chosen.append(found)
        return [*dict.fromkeys(variants), *sorted(dict.fromkeys(chosen), key=version_tuple)]

    def point(self, version: str) -> tuple[str, dict, dict]:
        """The Python that measures ``version``, the variables its processes get, and what the record says of it."""
        raise NotImplementedError

    def ran(self, version: str, result: dict, asked: dict) -> dict:
        """What the measure's processes ran (threadpoolctl's BLAS, the versions), with an ``error``
        where it is not ``version`` (``asked``: what :meth:`point` recorded of it)."""
        raise NotImplementedError

    def by_round(self, measure: Measure, version: str, under: Path) -> Iterator[tuple[dict, dict]]:
        """Measure ``version`` into its point's directory under ``under`` (``releases/``, or ``bisect/``
        for a confirmation), a round at a time: after each, its record (what was asked for, installed
        and loaded, and an ``error`` where another version ran, which ends it) and the measure's result so far."""
        python, extra_env, asked = self.point(version)
        directory = Path(under) / point_directory(self.name, version, measure.kind)
        directory.mkdir(parents=True, exist_ok=True)
        for result in measure.by_round(directory / f"{measure.kind}.json", python, extra_env):
            record = {"kind": "release", "axis": self.name, "release": version, "measure": measure.kind, **asked,
                      **self.ran(version, result, asked)}
            write_result(directory / "release.json", record)
            yield record, result
            if "error" in record:  # another version ran: measured no further
                return


class OpenBLASReleases(Axis):
    """Each release of ``scipy-openblas32`` loaded under one build against it, and beside them
    the side-by-side setups of OpenBLAS (Debian's, and Debian's source compiled here), each with
    NumPy (and SciPy) of the same versions built against it."""

    name, what, setup = "openblas", "OpenBLAS release", "scipy-openblas"
    distribution = ScipyOpenBLASProvider.distribution
    depth, first = 3, (0, 3, 26)  # the first release whose symbols carry the scipy_ prefix the build links
    built_beside = ("system", "source")  # the providers of OpenBLAS a point can be built against

    def __init__(self, python: str = sys.executable, numpy: str = pins.NUMPY, scipy: str | None = pins.SCIPY,
                 beside: dict[str, Setup] | None = None):
        """``numpy``, ``scipy`` (None: NumPy alone): what a variant's point builds against its library,
        as the one build was; ``beside``: the setups of those providers asked for, by the name of their
        point (``source-trixie``), as asked (make variables too)."""
        self.python, self.numpy, self.scipy = python, numpy, scipy
        self.builds = {name: variant.setup for name, variant in VARIANTS.items() if variant.provider in self.built_beside}
        self.builds.update(beside or {})

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.builds)

    def too_old(self, version: str) -> str:
        return (f"{super().too_old(version)}, whose wheels export unprefixed symbols that a build against "
                "scipy-openblas32 cannot load")

    def newest(self, release: str, available: list[str]) -> str | None:
        """Its tag's newest build (``0.3.28.0.2``), else the newest build of the earliest snapshot
        after the tag (the fourth number counts commits since it)."""
        builds = [v for v in available if v.split(".")[:3] == release.split(".")]
        tags = [v for v in builds if len(v.split(".")) > 3 and v.split(".")[3] == "0"]
        if tags:
            return tags[-1]
        if not builds:
            return None
        first = min(version_tuple(v)[3] for v in builds if len(v.split(".")) > 3)
        return max((v for v in builds if version_tuple(v)[3] == first), key=version_tuple)

    def point(self, version: str) -> tuple[str, dict, dict]:
        if version in self.variants:
            return self.variant_point(version)
        library = ScipyOpenBLASProvider(version).installed() / "lib"
        path = os.pathsep.join(filter(None, [str(library), os.environ.get("LD_LIBRARY_PATH")]))
        return self.python, {"LD_LIBRARY_PATH": path}, {"library": str(library)}

    def variant_point(self, name: str) -> tuple[str, dict, dict]:
        """A variant's point: its provider's library made available, NumPy (and SciPy) built against it
        (cached, like every build), installed into an environment named by the wheels' keys."""
        project = project_root()  # before the build: its error is one line
        library = setup_provider(self.builds[name]).ensure()
        python, wheels = built_environment(name, library, project, self.numpy, self.scipy)
        return python, {}, {"release": library.version, "variant": name, "setup": str(self.builds[name]),
                            "library": library.library,
                            "wheels": [{"package": w.package, "version": w.version, "key": w.key} for w in wheels]}

    def ran(self, version: str, result: dict, asked: dict) -> dict:
        loaded = blas_fields(loaded_blas(result))
        if version in self.variants:
            if os.path.realpath(loaded["filepath"] or "") == asked["library"]:
                return {"loaded": loaded}
            return {"loaded": loaded, "error": f"threadpoolctl reports {loaded['filepath']}, not {version}'s "
                                               f"{asked['library']}: the build did not load its library"}
        if str(loaded["version"] or "").startswith(".".join(version.split(".")[:3])):
            return {"loaded": loaded}
        return {"loaded": loaded, "error": f"threadpoolctl reports OpenBLAS {loaded['version']} from {loaded['filepath']}, "
                                           f"not {version}: the build did not load the release's library"}


class NumPyReleases(Axis):
    """PyPI's NumPy wheels, each in its own environment (with the SciPy pip picks for it where
    ``with_scipy``), each with the OpenBLAS it bundles."""

    name, what, setup = "numpy", "NumPy release", "pypi"
    distribution, depth = "numpy", 2

    offered = f" with a wheel for Python {sys.version_info.major}.{sys.version_info.minor}"

    def __init__(self, with_scipy: bool, project: Path, extras: tuple[str, ...] = ()):
        """``extras``: what the measure needs beside them (the network: numexpr), pinned as this project pins it."""
        self.with_scipy, self.project, self.extras = with_scipy, project, extras

    def available(self) -> list[str]:
        """The releases this Python can install as wheels: an older one (1.19 on Python 3.11) is refused before
        anything is installed, and a range takes those between that have one."""
        return wheel_versions(self.distribution)

    def environment(self, version: str) -> str:
        """The release's environment (made once): wheels only, never a compile; this project beside them."""
        wanted = [f"numpy=={version}", *(["scipy"] if self.with_scipy else []), *self.extras]

        def fill(python: str) -> None:
            print(f"Installing {' and '.join(wanted)} from the package index ...", flush=True)
            run = subprocess.run([python, "-m", "pip", "install", "-q", "--only-binary", ":all:", *wanted],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                raise UserError(f"pip could not install {' and '.join(wanted)} as wheels for Python "
                                f"{sys.version_info.major}.{sys.version_info.minor} here ({last_line(run.stderr)}): pick a "
                                "release with a wheel for this Python (pip index versions numpy), or check PIP_INDEX_URL.")
            install_project(python, self.project)

        return virtual_environment("-".join([f"numpy-{version}", *(w.split("==")[0] for w in wanted[1:])]), fill)

    def point(self, version: str) -> tuple[str, dict, dict]:
        return self.environment(version), {}, {}

    def ran(self, version: str, result: dict, asked: dict) -> dict:
        versions = (result.get("environment") or {}).get("versions", {})
        found = {"loaded": blas_fields(loaded_blas(result, "numpy")),
                 "installed": {k: versions.get(k) for k in ("numpy", "scipy")},
                 "libraries": [blas_fields(lib) for lib in blas_libraries(result.get("environment"))]}
        if found["installed"]["numpy"] != version:
            found["error"] = f"the environment's processes ran NumPy {found['installed']['numpy']}, not {version}"
        return found


def measure_together(measure: Measure, axis: Axis, versions: list[str], under: Path,
                     note: str = "") -> tuple[Measure, list[tuple[dict, dict]]]:
    """Measure ``versions`` a round of each in turn (:func:`.sweep.in_turn`): a machine that drifts
    over the half hour an axis can take shifts every version alike. A version whose record says
    another one ran is measured no further. The measure the points after these take
    (:meth:`Measure.after`), and each version's last record and result."""
    def before(turn: int, version: str) -> None:
        stage = f"round {turn + 1} of {measure.count}" if turn < measure.count else "further rounds where undecided"
        what = "variant" if version in axis.variants else axis.what
        print(f"{what} {version}{note} ({versions.index(version) + 1} of {len(versions)}), {stage}:", flush=True)

    last: dict[str, tuple[dict, dict]] = {}
    # a point is started when its first round comes: it takes the measure the first point's first round set
    for version, (record, result) in in_turn(versions, lambda version: axis.by_round(measure, version, under),
                                             measure.count + measure.further, before):
        if version not in last and "error" not in record:
            measure = measure.after(result)
        last[version] = record, result
    return measure, [last[version] for version in versions]


def run_release_axis(measure: Measure, axis: Axis, releases: list[str], results: Path) -> list[str]:
    """Measure every release, a round of each in turn (:func:`measure_together`); the releases refused,
    each with why."""
    _, measured = measure_together(measure, axis, releases, Path(results) / "releases")
    return [f"{version}: {record['error']}" for version, (record, _) in zip(releases, measured) if "error" in record]


def bisect(measure: Measure, axis: Axis, releases: list[str], results: Path) -> list[dict]:
    """asv's ``find``, with the rule for "changed": map the first and last of ``releases`` together
    (:func:`measure_together`); for every cell (a map's call and size, a sweep's workload, at a thread
    count) that changed between them, halve the releases between, each release compared with the first,
    until two adjacent releases hold the change; then map that pair again, afresh and together, to confirm it. A
    release whose cell changed the other way ends that cell's search as not monotone. Measured
    releases are mapped once (under ``results/releases``, read by ``setups.md``), the confirmations
    under ``results/bisect``. Endpoints that do not differ are one line."""
    cells: dict[int, dict] = {}

    def mapped(indices: list[int], again: bool = False) -> list[dict]:
        """The cells of the releases at ``indices``, those not yet mapped mapped together (a round of
        each in turn); ``again``: all of them mapped afresh, under ``bisect/``, to confirm a step."""
        nonlocal measure
        if todo := [i for i in indices if again or i not in cells]:
            measure, found = measure_together(measure, axis, [releases[i] for i in todo],
                                              Path(results) / ("bisect" if again else "releases"),
                                              " again, to confirm" if again else "")
            fresh = {}
            for i, (record, result) in zip(todo, found):
                if "error" in record:
                    raise UserError(f"bisect: {releases[i]}: {record['error']}.")
                fresh[i] = MEASURED[measure.kind].cells(result)
            if again:
                return [fresh[i] for i in indices]
            cells.update(fresh)
        return [cells[i] for i in indices]

    def answer(findings: list[dict]) -> None:
        """The answer so far, into ``bisect.json`` beside the axis (its report reads it)."""
        write_result(Path(results) / "bisect.json", {"kind": "bisect", "axis": axis.name, "measure": measure.kind,
                                                     "releases": releases, "measured": [releases[i] for i in sorted(cells)],
                                                     "findings": findings})

    last = len(releases) - 1
    first, final = mapped([0, last])
    ends = {(t, key): decide(found["processes"], final[t][key]["processes"])
            for t, row in first.items() for key, found in row.items() if key in final.get(t, {})}
    changed = {cell: change for cell, change in ends.items() if beyond_noise(change["verdict"])}
    if not changed:
        answer([])
        raise UserError(f"no change between {releases[0]} and {releases[-1]} to find: no cell is slower or faster "
                        "beyond noise by the rule.")
    findings: list[dict] = []
    for (threads, key), end in sorted(changed.items()):
        low, high, other_way = 0, last, None
        while high - low > 1 and other_way is None:
            middle = (low + high) // 2
            verdict = decide(first[threads][key]["processes"], mapped([middle])[0][threads][key]["processes"])["verdict"]
            if verdict == end["verdict"]:
                high = middle
            elif beyond_noise(verdict):
                other_way = (middle, verdict)
            else:
                low = middle
        found = {**key_fields(measure.kind, key), "threads": threads, "verdict": end["verdict"],
                 "before": releases[low], "after": releases[high],
                 "seconds": [cells[low][threads][key]["median"], cells[high][threads][key]["median"]],
                 # a step to or from a setup built here (Debian's, compiled from source) is one of build too
                 "build_changed": releases[low] in axis.variants or releases[high] in axis.variants}
        if other_way:
            found["not_monotone"] = {"release": releases[other_way[0]], "verdict": other_way[1]}
        else:
            low_again, high_again = mapped([low, high], again=True)
            again = decide(low_again[threads][key]["processes"], high_again[threads][key]["processes"])
            found["confirmed"] = again["verdict"] == end["verdict"]
            found["confirmation"] = {k: again[k] for k in ("verdict", "ratio", "p")}
        findings.append(found)
        answer(findings)
    print(f"bisect measured {len(cells)} of {len(releases)} {axis.what}s, and the pair around each step again.", flush=True)
    return findings
