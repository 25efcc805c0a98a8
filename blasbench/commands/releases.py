"""The release axis as the measuring commands take it (``threadmap``, ``scaling``): the options that
spell it, the axis they ask for, checked before anything is installed, and its run or bisect."""

from __future__ import annotations

import argparse
import sys

from .. import UserError
from ..building.providers.pypi import ScipyOpenBLASProvider
from ..measuring.releases import Axis, Measure, NumPyReleases, OpenBLASReleases, bisect, run_release_axis
from ..measuring.variants import project_root
from ..render import render_all
from ..render.format import duration
from ..render.releases import cell_name
from ..results.directory import Results


def add_release_options(group) -> None:
    group.add_argument("--openblas-releases", metavar="RELEASES",
                       help="with --provider scipy-openblas: measure under each release of scipy-openblas32 loaded under "
                            "the one build, a range (0.3.26..0.3.34: every release between, by its tag) or a list "
                            "(0.3.27,0.3.30.0.8), and compare-variants' variants of OpenBLAS beside them, with NumPy "
                            f"(and SciPy) built against each ({', '.join(OpenBLASReleases.variants)}; e.g. "
                            "0.3.26..0.3.34,system-pthread), "
                            "into RESULTS/releases/ and releases.md")
    group.add_argument("--numpy-releases", metavar="RELEASES",
                       help="measure each NumPy release as PyPI's wheel (with the SciPy pip picks for it), each in its "
                            "own environment, no build: a range (1.26..2.4: every minor release between, by its newest "
                            "patch) or a list (1.26.4,2.0.2), into RESULTS/releases/ and releases.md")
    group.add_argument("--bisect", nargs="?", const=True, metavar="GOOD..BAD",
                       help="find the release where each cell that changed between two releases changed, measuring "
                            "only the releases needed, and confirm it afresh: GOOD..BAD of OpenBLAS (with --provider "
                            "scipy-openblas), or with no value the range of --openblas-releases or --numpy-releases")


def release_axis(args: argparse.Namespace, with_scipy: bool = True,
                 extras: tuple[str, ...] = ()) -> tuple[Axis | None, list[str] | None]:
    """The release axis asked for (``--openblas-releases``, ``--numpy-releases``, or ``--bisect``'s
    range) and its index versions, checked before anything is installed; (None, None) for none.
    ``with_scipy``, ``extras``: what a NumPy release's environment needs beside NumPy."""
    if sum(map(bool, (args.openblas_releases, args.numpy_releases, isinstance(args.bisect, str)))) > 1:
        raise UserError("one release axis at a time: --openblas-releases, --numpy-releases or --bisect GOOD..BAD.")
    if args.bisect is True and not (args.openblas_releases or args.numpy_releases):
        raise UserError("--bisect needs the releases to search: --bisect GOOD..BAD (OpenBLAS releases), or with "
                        "--openblas-releases or --numpy-releases LOW..HIGH.")
    spec = args.bisect if isinstance(args.bisect, str) else args.openblas_releases or args.numpy_releases
    if not spec:
        return None, None
    if args.numpy_releases:
        if args.installed:
            raise UserError("--numpy-releases installs each NumPy release from the package index into its own "
                            "environment: drop --installed.")
        axis: Axis = NumPyReleases(with_scipy, project_root(), extras)
    else:
        if args.installed or args.provider != ScipyOpenBLASProvider.name:
            raise UserError(f"--{'bisect' if args.bisect else 'openblas-releases'} loads each release of scipy-openblas32 "
                            "under a build against it: add --provider scipy-openblas (with --numpy-only for NumPy's calls "
                            "alone, in minutes).")
        axis = OpenBLASReleases(numpy=args.numpy, scipy=None if args.numpy_only else args.scipy)
    if args.bisect and ".." not in spec:
        raise UserError(f"--bisect {spec}: give the good and the bad release as a range, e.g. 0.3.26..0.3.34.")
    releases = axis.parse(spec, axis.available())
    if args.bisect and (variants := [r for r in releases if r in axis.variants]):
        raise UserError(f"--bisect searches releases loaded under one build; {', '.join(variants)} is a variant, "
                        "another build: leave it out of the range (map it beside them with --openblas-releases).")
    return axis, releases


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
        print(bisect_line(found))
    print(f"report: {args.results / 'releases.md'}")
    return 1 if len(refused) == len(releases) else 0


def bisect_line(found: dict) -> str:
    """One change a bisect found: where, between which releases, and whether fresh measures confirmed it."""
    cell = f"{cell_name(found)} at {found['threads']} thread(s)"
    if "not_monotone" in found:
        turn = found["not_monotone"]
        return (f"{cell}: {found['verdict']} from {found['before']} to {found['after']} overall, but {turn['verdict']} at "
                f"{turn['release']}: not monotone; bisect a narrower range on each side")
    again = found["confirmation"]
    return (f"{cell}: {found['before']} {duration(found['seconds'][0])}, {found['after']} {duration(found['seconds'][1])} "
            f"({found['verdict']}): " + ("confirmed" if found["confirmed"] else
                                        f"not confirmed (measured again: {again['verdict']}, {again['ratio']:.2f}x)")
            + f" on fresh measures (p = {again['p']:.3g})")
