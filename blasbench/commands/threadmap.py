"""``threadmap``: NumPy's and SciPy's calls over sizes and thread counts: where BLAS threads pay,
where they hurt, and what to set."""

from __future__ import annotations

import argparse
import sys

from nn.options import positive, zero_or_more

from .. import UserError
from ..building.providers.pypi import ScipyOpenBLASProvider
from ..building.verify import THREAD_COUNT, failed_checks
from ..facts import CELL_SECONDS
from ..measuring import provenance
from ..measuring.calls import CALLS, DTYPES, calls_of
from ..measuring.releases import Axis, NumPyReleases, OpenBLASReleases, bisect, run_release_axis
from ..measuring.threadmap import DEFAULT_SIZES, MapSettings, check_sizes, run_threadmap
from ..measuring.variants import project_root
from ..render import render_all
from ..render.format import duration
from ..results.directory import Results
from .options import (
    INSTALLED_HELP,
    Listed,
    ThreadCounts,
    add_build_options,
    add_results_options,
    check_installed,
    ensure_quiet,
    recorded_build,
    writable_results,
)


def default_thread_counts(cores: int) -> tuple[int, ...]:
    """1, the powers of two below the usable cores, and the usable cores: a map per count costs minutes."""
    return tuple(sorted({1, cores, *(2 ** k for k in range(1, cores.bit_length()) if 2 ** k < cores)}))


def chosen_calls(args: argparse.Namespace) -> tuple[str, ...]:
    """The calls asked for (default all); a NumPy-only build has no SciPy to call."""
    if not args.numpy_only:
        return tuple(args.calls or CALLS)
    numpy_calls = calls_of("numpy")
    if scipy_calls := [call for call in args.calls or () if call not in numpy_calls]:
        raise UserError(f"--numpy-only builds no SciPy, which {', '.join(scipy_calls)} needs: drop --numpy-only "
                        "or those calls.")
    return tuple(args.calls or numpy_calls)


def release_axis(args: argparse.Namespace) -> tuple[Axis | None, list[str] | None]:
    """The release axis asked for (``--openblas-releases``, ``--numpy-releases``, or ``--bisect``'s
    range) and its index versions, checked before anything is installed; (None, None) for one map."""
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
        axis: Axis = NumPyReleases(with_scipy=not args.numpy_only, project=project_root())
    else:
        if args.installed or args.provider != ScipyOpenBLASProvider.name:
            raise UserError(f"--{'bisect' if args.bisect else 'openblas-releases'} loads each release of scipy-openblas32 "
                            "under a build against it: add --provider scipy-openblas (with --numpy-only for NumPy's calls "
                            "alone, in minutes).")
        axis = OpenBLASReleases()
    if args.bisect and ".." not in spec:
        raise UserError(f"--bisect {spec}: give the good and the bad release as a range, e.g. 0.3.26..0.3.34.")
    return axis, axis.parse(spec, axis.available())


def command_threadmap(args: argparse.Namespace) -> int:
    threads = args.threads or default_thread_counts(provenance.usable_cores())
    settings = MapSettings(calls=chosen_calls(args), dtypes=tuple(args.dtypes), sizes=tuple(args.sizes),
                           threads=threads, measurements=args.measurements, rounds=args.rounds, more_rounds=args.more_rounds,
                           max_seconds=args.max_seconds)
    check_sizes(settings)  # before anything long
    writable_results(args.results)
    axis, releases = release_axis(args)
    if args.installed:
        check_installed()
    elif not isinstance(axis, NumPyReleases):  # PyPI's wheels need no build
        verification = recorded_build(args)["verification"]
        failed = failed_checks(verification) if verification["status"] == "failed" else []
        if failed == [THREAD_COUNT]:
            print(f"note: the map sets and checks every process's thread count, so the library's default "
                  f"({THREAD_COUNT}, above) does not change what it measures.", file=sys.stderr)
        elif failed and not args.allow_unverified:
            raise UserError(f"the build failed verification ({', '.join(failed)}; see above): its timings would not "
                            "mean anything (--allow-unverified maps it anyway).")
    ensure_quiet(args)
    refused, findings = [], None
    try:
        if args.bisect:
            findings = bisect(settings, axis, releases, args.results)
        elif releases:
            refused = run_release_axis(settings, axis, releases, args.results)
        else:
            run_threadmap(settings, args.results / "threadmap.json")
    finally:
        render_all(Results.load(args.results))  # what was measured is reported, also after Ctrl-C
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    for found in findings or []:
        print(bisect_line(found))
    print(f"report: {args.results / ('releases.md' if releases else 'threadmap.md')}")
    return 1 if releases and len(refused) == len(releases) else 0


def bisect_line(found: dict) -> str:
    """One change a bisect found: where, between which releases, and whether fresh maps confirmed it."""
    cell = f"`{found['call']}` ({found['dtype']}) n = {found['n']:,} at {found['threads']} thread(s)"
    if "not_monotone" in found:
        turn = found["not_monotone"]
        return (f"{cell}: {found['verdict']} from {found['before']} to {found['after']} overall, but {turn['verdict']} at "
                f"{turn['release']}: not monotone; bisect a narrower range on each side")
    again = found["confirmation"]
    return (f"{cell}: {found['before']} {duration(found['seconds'][0])}, {found['after']} {duration(found['seconds'][1])} "
            f"({found['verdict']}): " + ("confirmed" if found["confirmed"] else
                                        f"not confirmed (mapped again: {again['verdict']}, {again['ratio']:.2f}x)")
            + f" on fresh maps (p = {again['p']:.3g})")


def register(commands) -> None:
    threadmap = commands.add_parser("threadmap", help="time NumPy's and SciPy's calls over sizes and thread counts: "
                                    "where BLAS threads pay, where they hurt, and what to set")
    add_build_options(threadmap)
    group = threadmap.add_argument_group("map")
    group.add_argument("--calls", action=Listed, allowed=list(CALLS), metavar="CALL",
                       help=f"the calls timed (default all: {', '.join(CALLS)}; NumPy's alone with --numpy-only)")
    group.add_argument("--sizes", action=Listed, nargs="*", item=int, what="sizes", default=list(DEFAULT_SIZES), metavar="N",
                       help=f"matrix sizes n (default {' '.join(map(str, DEFAULT_SIZES))})")
    group.add_argument("--dtypes", action=Listed, allowed=DTYPES, default=["float64"], metavar="DTYPE",
                       help=f"precisions ({', '.join(DTYPES)}; default float64)")
    group.add_argument("--threads", action=ThreadCounts,
                       help="thread counts, e.g. 1,2,4 (default: 1, the powers of two below the usable cores, and the cores)")
    group.add_argument("--measurements", type=positive, default=MapSettings.measurements,
                       help=f"measurements of each cell in each process, each at least {CELL_SECONDS * 1000:g} ms "
                            f"(default {MapSettings.measurements})")
    group.add_argument("--rounds", type=positive, default=MapSettings.rounds,
                       help="processes per thread count, interleaved (1, 2, 4, 1, 2, 4, ...): the rule for \"slower\" "
                            "takes one value per process, so that a process that happens to run slower reads as noise, "
                            f"not as a thread effect; 5 or more can call a difference (default {MapSettings.rounds})")
    group.add_argument("--more-rounds", type=zero_or_more, default=MapSettings.more_rounds, metavar="N",
                       help="up to N more rounds, each measuring only the cells the rule leaves undecided (medians "
                            "beyond the change factor, the test not yet beyond chance), at one thread and where they "
                            f"are undecided; 0: none (default {MapSettings.more_rounds})")
    group.add_argument("--max-seconds", type=float, default=MapSettings.max_seconds, metavar="SECONDS",
                       help="a call's sizes stop growing where one call at one thread takes longer than this "
                            f"(default {MapSettings.max_seconds:g})")
    group.add_argument("--allow-busy", action="store_true",
                       help="measure even when other processes keep the cores busy")
    group.add_argument("--bisect", nargs="?", const=True, metavar="GOOD..BAD",
                       help="find the release where each cell that changed between two releases changed, mapping only "
                            "the releases needed, and confirm it on fresh maps: GOOD..BAD of OpenBLAS (with --provider "
                            "scipy-openblas), or with no value the range of --openblas-releases or --numpy-releases")
    group.add_argument("--openblas-releases", metavar="RELEASES",
                       help="with --provider scipy-openblas: map each release of scipy-openblas32 loaded under the one build, "
                            "a range (0.3.26..0.3.34: every release between, by its tag) or a list (0.3.27,0.3.30.0.8), "
                            "into RESULTS/releases/ and releases.md")
    group.add_argument("--numpy-releases", metavar="RELEASES",
                       help="map each NumPy release as PyPI's wheel (with the SciPy pip picks for it; NumPy alone with "
                            "--numpy-only), each in its own environment, no build: a range (1.26..2.4: every minor "
                            "release between, by its newest patch) or a list (1.26.4,2.0.2), into RESULTS/releases/ and "
                            "releases.md")
    threadmap.set_defaults(run=command_threadmap)
    installed = threadmap.add_mutually_exclusive_group()
    installed.add_argument("--installed", action="store_true", help=INSTALLED_HELP)
    installed.add_argument("--numpy-only", action="store_true",
                           help="build NumPy alone against the provider and map NumPy's calls (minutes where SciPy's "
                                "build takes half an hour; SciPy's calls need SciPy)")
    add_results_options(threadmap)
