"""The release axis as the measuring commands take it (``threadmap``, ``scaling``): the options that
spell it, the axis they ask for, checked before anything is installed, and its run or bisect."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from .. import UserError, pins
from ..measuring.releases import Axis, Measure, NumPyReleases, OpenBLASReleases, bisect, run_release_axis
from ..measuring.variants import project_root
from ..render import render_all
from ..render.releases import bisect_line
from ..results.directory import Results
from ..setups import Setup, variant_of
from .options import numpy_alone, one_setup


def add_bisect_option(group) -> None:
    group.add_argument("--bisect", action="store_true",
                       help="with a range of releases (--setup scipy-openblas:LOW..HIGH or pypi:LOW..HIGH), and any "
                            "setups beside it (system:pthread, source: first, in order): find the step where each cell "
                            "that changed between the first and the last changed, measuring only the points needed, and "
                            "confirm it afresh on both sides of the step")


def series_point(setup: Setup) -> str:
    """How the release axis names ``setup``: its release (or range), or the variant built beside the releases."""
    return setup.release or variant_of(setup).name


def release_axis(args: argparse.Namespace, setups: list[Setup],
                 extras: tuple[str, ...] = ()) -> tuple[Axis | None, list[str] | None]:
    """The release axis ``setups`` make, and its index versions, checked before anything is installed;
    (None, None) where they name no release. ``extras``: what a NumPy release's environment needs beside
    NumPy (and SciPy, unless the setups are NumPy alone). A scipy-openblas release is loaded under one build against it,
    beside which Debian's OpenBLAS and source builds can be points; NumPy's releases stand alone."""
    # PyPI's pinned wheels are a NumPy release's point like any other
    setups = [replace(setup, option=pins.NUMPY) if setup.kind == "pypi" and not setup.option else setup for setup in setups]
    released = [setup for setup in setups if setup.release]
    if not released:
        if args.bisect:
            raise UserError("--bisect needs the releases to search: --setup scipy-openblas:LOW..HIGH (OpenBLAS) or "
                            "pypi:LOW..HIGH (NumPy).")
        return None, None
    kinds = {setup.kind for setup in released}
    if len(kinds) > 1:
        raise UserError(f"--setup {' '.join(map(str, released))}: one release series at a time, OpenBLAS's "
                        "(scipy-openblas:...) or NumPy's (pypi:...).")
    if len({(setup.numpy, setup.scipy) for setup in released}) > 1:
        raise UserError(f"--setup {' '.join(map(str, released))}: the releases load under one build: give its "
                        "+numpy==/+scipy== once, the same for every one.")
    if released[0].kind == "pypi":
        if others := [setup for setup in setups if setup not in released]:
            raise UserError(f"--setup {' '.join(map(str, others))}: NumPy's releases are measured as PyPI's wheels "
                            "alone; measure the others in a run of their own.")
        axis: Axis = NumPyReleases(not numpy_alone(setups), project_root(), extras)
    else:
        # the one build they load under compiles the NumPy and SciPy the range names (+numpy==...)
        numpy_alone(setups)  # +numpy-only on all or none
        others = [setup for setup in setups if setup not in released]
        if wrong := [setup for setup in others if setup.of.provider not in OpenBLASReleases.built_beside
                     or (setup.numpy, setup.scipy or pins.SCIPY) != (pins.NUMPY, pins.SCIPY)]:
            raise UserError(f"--setup {' '.join(map(str, wrong))}: beside scipy-openblas's releases, a point is OpenBLAS "
                            "built otherwise, Debian's (system[:FLAVOUR]) or compiled from source (source[:FLAVOUR]"
                            "[+KEY=VALUE]), with the releases' NumPy and SciPy.")
        beside = {variant_of(setup).name: setup for setup in others}
        if len(beside) < len(others):
            raise UserError(f"--setup {' '.join(map(str, others))}: two points beside the releases would share a name "
                            f"({', '.join(beside)}): one build per kind and flavour.")
        axis = OpenBLASReleases(numpy=released[0].numpy, scipy=released[0].scipy, beside=beside)
    releases = axis.parse(",".join(map(series_point, setups)), axis.available())
    if args.bisect and len(releases) < 3:
        raise UserError(f"--setup {' '.join(map(str, setups))}: --bisect searches three points or more (here "
                        f"{', '.join(releases)}): a range, e.g. --setup {released[0].kind}:LOW..HIGH; two are compared "
                        "by the axis itself, without --bisect.")
    return axis, releases


def build_of(axis: Axis | None, args: argparse.Namespace) -> Setup:
    """The setup compiled here for a run: OpenBLAS's releases load under the build against scipy-openblas32."""
    if isinstance(axis, OpenBLASReleases):
        return Setup("scipy-openblas", numpy=axis.numpy, scipy=axis.scipy)
    return one_setup(args)


def run_axis(args: argparse.Namespace, axis: Axis, measure: Measure, releases: list[str]) -> int:
    """Measure the releases (or bisect them), report what was measured also after an error or Ctrl-C,
    and print the refusals and the steps found; 1 when every release was refused."""
    refused, findings = [], []
    try:
        if args.bisect:
            findings = bisect(measure, axis, releases, args.results)
        else:
            refused = run_release_axis(measure, axis, releases, args.results)
    finally:
        render_all(Results.load(args.results))
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    for found in findings:
        print(bisect_line(found, measure.kind))
    print(f"report: {args.results / 'setups.md'}")
    return 1 if len(refused) == len(releases) else 0
