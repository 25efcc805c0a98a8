"""OpenBLAS releases as an axis, without a compile per release: NumPy (and SciPy) built once against
the ``scipy-openblas32`` wheel, then each release of that wheel loaded in its place and mapped.

The build's modules find ``libscipy_openblas.so`` through their RUNPATH, which the loader searches
after ``LD_LIBRARY_PATH``: a release's ``lib`` directory put first there is loaded instead. That it
was is measured, not assumed: each map's processes record what threadpoolctl reports (NumPy's
``show_config()`` reports the build-time release), and a release whose library reports another
version is refused in one line. Releases before 0.3.26 export unprefixed symbols, which a build
against the prefixed ones cannot load: they are refused before anything is installed.

    <results>/releases/<version>/release.json     what was asked for, installed and loaded
    <results>/releases/<version>/threadmap.json   the map with that release loaded
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .. import UserError
from ..building.providers.pypi import ScipyOpenBLASProvider
from ..results.analysis import threadmap_cells
from ..results.change import beyond_noise, decide
from ..results.kinds import write_result
from ..results.kinds.release import version_tuple
from .threadmap import MapSettings, run_threadmap

DISTRIBUTION = ScipyOpenBLASProvider.distribution
FIRST = (0, 3, 26)  # the first release whose symbols carry the scipy_ prefix the build links


def index_versions(python: str = sys.executable) -> list[str]:
    """Every version of the wheel the package index has (pip's own listing), oldest first."""
    run = subprocess.run([python, "-m", "pip", "index", "versions", DISTRIBUTION], capture_output=True, text=True)
    listed = re.search(r"Available versions: (.*)", run.stdout)
    if run.returncode != 0 or not listed:
        raise UserError(f"pip could not list {DISTRIBUTION}'s releases ({(run.stderr or 'no answer').strip().splitlines()[-1]}): "
                        "check the network or PIP_INDEX_URL.")
    return sorted((v.strip() for v in listed.group(1).split(",")), key=version_tuple)


def tag_build(release: str, available: list[str]) -> str | None:
    """The index version of OpenBLAS ``release`` (``0.3.28``): its tag's newest build (``0.3.28.0.2``),
    else the newest build of the earliest snapshot after the tag (its fourth number counts commits since it)."""
    builds = [v for v in available if v.split(".")[:3] == release.split(".")]
    tags = [v for v in builds if len(v.split(".")) > 3 and v.split(".")[3] == "0"]
    if tags:
        return tags[-1]
    if not builds:
        return None
    first = min(version_tuple(v)[3] for v in builds if len(v.split(".")) > 3)
    return max((v for v in builds if version_tuple(v)[3] == first), key=version_tuple)


def parse_axis(spec: str, available: list[str]) -> list[str]:
    """``0.3.26..0.3.34`` (every release between, by its tag) or a list (``0.3.27,0.3.30.0.8``: releases
    or exact index versions): the index versions, oldest first. A release the index lacks, or one too
    old for the build to load, is one line."""
    releases = sorted({".".join(v.split(".")[:3]) for v in available}, key=version_tuple)
    if ".." in spec:
        low, _, high = spec.partition("..")
        wanted = [r for r in releases if version_tuple(low) <= version_tuple(r) <= version_tuple(high)]
        if not wanted:
            raise UserError(f"--openblas-releases {spec}: the index has no release in that range; it has "
                            f"{', '.join(releases)}.")
    else:
        wanted = [word.strip() for word in spec.split(",") if word.strip()]
    chosen = []
    for word in wanted:
        if not re.fullmatch(r"\d+(\.\d+){2,4}", word):
            raise UserError(f"--openblas-releases: {word!r} is not a release (0.3.28) or an index version (0.3.28.0.2).")
        if version_tuple(word)[:3] < FIRST:
            raise UserError(f"--openblas-releases: {word} is older than {'.'.join(map(str, FIRST))}, whose wheels export "
                            "unprefixed symbols that a build against scipy-openblas32 cannot load.")
        found = word if word in available else (tag_build(word, available) if word.count(".") == 2 else None)
        if found is None:
            raise UserError(f"--openblas-releases: the index has no {DISTRIBUTION} {word}; its releases: "
                            f"{', '.join(r for r in releases if version_tuple(r) >= FIRST)}.")
        chosen.append(found)
    return sorted(dict.fromkeys(chosen), key=version_tuple)


def release_library(version: str) -> Path:
    """The ``lib`` directory of ``scipy-openblas32==version``, installed once into the cache."""
    return ScipyOpenBLASProvider(version).installed() / "lib"


def loaded_blas(result: dict) -> dict:
    """What the map's processes loaded, as threadpoolctl reported it."""
    return next((lib for lib in (result.get("environment") or {}).get("threadpool_info", []) if lib.get("user_api") == "blas"),
                {})


def map_release(settings: MapSettings, version: str, directory: Path, python: str = sys.executable) -> tuple[dict, dict]:
    """Map ``version`` loaded under the build into ``directory`` (resumable, as any map): its record
    (what was asked for, installed and loaded, and an ``error`` where another version was loaded) and the map."""
    library = release_library(version)
    directory.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(filter(None, [str(library), os.environ.get("LD_LIBRARY_PATH")]))
    result = run_threadmap(settings, directory / "threadmap.json", python, extra_env={"LD_LIBRARY_PATH": path})
    loaded = loaded_blas(result)
    record = {"kind": "release", "release": version, "library": str(library),
              "loaded": {k: loaded.get(k) for k in ("version", "architecture", "threading_layer", "filepath")}}
    if not str(loaded.get("version") or "").startswith(".".join(version.split(".")[:3])):
        record["error"] = (f"threadpoolctl reports OpenBLAS {loaded.get('version')} from {loaded.get('filepath')}, "
                           f"not {version}: the build did not load the release's library")
    write_result(directory / "release.json", record)
    return record, result


def run_release_axis(settings: MapSettings, releases: list[str], results: Path, python: str = sys.executable) -> list[str]:
    """Map each release in turn; the releases refused, each with why."""
    refused = []
    for position, version in enumerate(releases, 1):
        print(f"OpenBLAS release {version} ({position} of {len(releases)}):", flush=True)
        record, _ = map_release(settings, version, Path(results) / "releases" / version, python)
        if "error" in record:
            refused.append(f"{version}: {record['error']}")
    return refused


def bisect(settings: MapSettings, releases: list[str], results: Path, python: str = sys.executable) -> list[dict]:
    """asv's ``find``, with the rule for "changed": map the first and last of ``releases``; for every
    cell that changed between them, halve the releases between, each release compared with the first,
    until two adjacent releases hold the change; then map that pair again, afresh, to confirm it. A
    release whose cell changed the other way ends that cell's search as not monotone. Measured
    releases are mapped once (under ``results/releases``, read by ``releases.md``), the confirmations
    under ``results/bisect``. Endpoints that do not differ are one line."""
    cells: dict[int, dict] = {}

    def measured(i: int, again: bool = False) -> dict:
        if again or i not in cells:
            print(f"OpenBLAS release {releases[i]}" + (" again, to confirm" if again else "") + ":", flush=True)
            where = Path(results) / ("bisect" if again else "releases") / releases[i]
            record, result = map_release(settings, releases[i], where, python)
            if "error" in record:
                raise UserError(f"bisect: {releases[i]}: {record['error']}.")
            if again:
                return threadmap_cells(result)
            cells[i] = threadmap_cells(result)
        return cells[i]

    last = len(releases) - 1
    ends = {(t, key): decide(found["processes"], measured(last)[t][key]["processes"])
            for t, row in measured(0).items() for key, found in row.items() if key in measured(last).get(t, {})}
    changed = {cell: change for cell, change in ends.items() if beyond_noise(change["verdict"])}
    if not changed:
        raise UserError(f"no change between {releases[0]} and {releases[-1]} to find: no cell is slower or faster "
                        "beyond noise by the rule.")
    findings = []
    for (threads, key), end in sorted(changed.items()):
        low, high, other_way = 0, last, None
        while high - low > 1 and other_way is None:
            middle = (low + high) // 2
            verdict = decide(measured(0)[threads][key]["processes"], measured(middle)[threads][key]["processes"])["verdict"]
            if verdict == end["verdict"]:
                high = middle
            elif beyond_noise(verdict):
                other_way = (middle, verdict)
            else:
                low = middle
        found = {"call": key[0], "dtype": key[1], "n": key[2], "threads": threads, "verdict": end["verdict"],
                 "before": releases[low], "after": releases[high],
                 "seconds": [measured(low)[threads][key]["median"], measured(high)[threads][key]["median"]]}
        if other_way:
            found["not_monotone"] = {"release": releases[other_way[0]], "verdict": other_way[1]}
        else:
            again = decide(measured(low, again=True)[threads][key]["processes"],
                           measured(high, again=True)[threads][key]["processes"])
            found["confirmed"] = again["verdict"] == end["verdict"]
            found["confirmation"] = {k: again[k] for k in ("verdict", "ratio", "p")}
        findings.append(found)
    print(f"bisect measured {len(cells)} of {len(releases)} releases, and confirmed on fresh maps.", flush=True)
    return findings
