"""``threadmap``: NumPy's and SciPy's calls over sizes and thread counts: where BLAS threads pay,
where they hurt, and what to set."""

from __future__ import annotations

import argparse
import sys

from nn.options import positive, zero_or_more

from .. import UserError, provenance
from ..building.verify import THREAD_COUNT, failed_checks
from ..facts import CELL_SECONDS
from ..measuring.calls import CALLS, DTYPES, calls_of
from ..measuring.releases import NumPyReleases, map_measure
from ..measuring.threadmap import DEFAULT_SIZES, MapSettings, check_sizes, run_threadmap
from ..render import render_all
from ..results.change import FEWEST_TO_DECIDE
from ..results.directory import Results
from .options import (
    Listed,
    ThreadCounts,
    add_build_options,
    add_results_options,
    check_installed,
    chosen_setups,
    ensure_quiet,
    numpy_alone,
    on_installed,
    recorded_build,
    writable_results,
)
from .releases import add_bisect_option, build_of, release_axis, run_axis
from .variants import measure_side_by_side, side_by_side


def further_rounds(text: str) -> int:
    """0, or enough further rounds for their processes alone to pass the test."""
    count = zero_or_more(text)
    if 0 < count < FEWEST_TO_DECIDE:
        raise argparse.ArgumentTypeError(f"{count}: further rounds decide on their own processes, so 0 or "
                                         f"{FEWEST_TO_DECIDE} or more")
    return count


def default_thread_counts(cores: int) -> tuple[int, ...]:
    """1, the powers of two below the usable cores, and the usable cores: a map per count costs minutes."""
    return tuple(sorted({1, cores, *(2 ** k for k in range(1, cores.bit_length()) if 2 ** k < cores)}))


def chosen_calls(args: argparse.Namespace) -> tuple[str, ...]:
    """The calls asked for (default all); a setup of NumPy alone has no SciPy to call."""
    if not numpy_alone(chosen_setups(args)):
        return tuple(args.calls or CALLS)
    numpy_calls = calls_of("numpy")
    if scipy_calls := [call for call in args.calls or () if call not in numpy_calls]:
        raise UserError(f"+numpy-only has no SciPy, which {', '.join(scipy_calls)} needs: drop +numpy-only "
                        "or those calls.")
    return tuple(args.calls or numpy_calls)


def share(text: str) -> float:
    """A command-line share of a time: 0 (none), 0.25 (a quarter more), ..."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number, e.g. 0.25") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a share of a time: give 0 or more, e.g. 0.25")
    return value


def command_threadmap(args: argparse.Namespace) -> int:
    threads = args.threads or default_thread_counts(provenance.usable_cores())
    settings = MapSettings(calls=chosen_calls(args), dtypes=tuple(args.dtypes), sizes=tuple(args.sizes),
                           threads=threads, measurements=args.measurements, rounds=args.rounds, more_rounds=args.more_rounds,
                           more_time=args.more_time,
                           max_seconds=args.call_limit)
    check_sizes(settings)  # before anything long
    writable_results(args.results)
    if side_by_side(setups := chosen_setups(args)):
        return measure_side_by_side(args, setups, map_settings=settings)
    axis, releases = release_axis(args, setups)
    if axis is None and on_installed(args):
        check_installed("numpy", *(("scipy",) if set(settings.calls) - set(calls_of("numpy")) else ()))
    elif not isinstance(axis, NumPyReleases):  # PyPI's wheels need no build
        verification = recorded_build(args, build_of(axis, args))["verification"]
        failed = failed_checks(verification) if verification["status"] == "failed" else []
        if failed == [THREAD_COUNT]:
            print(f"note: the map sets and checks every process's thread count, so the library's default "
                  f"({THREAD_COUNT}, above) does not change what it measures.", file=sys.stderr)
        elif failed and not args.allow_unverified:
            raise UserError(f"the build failed verification ({', '.join(failed)}; see above): its timings would not "
                            "mean anything (--allow-unverified maps it anyway).")
    ensure_quiet(args)
    if axis:
        return run_axis(args, axis, map_measure(settings), releases)
    try:
        run_threadmap(settings, args.results / "threadmap.json")
    finally:
        render_all(Results.load(args.results))  # what was measured is reported, also after Ctrl-C
    print(f"report: {args.results / 'threadmap.md'}")
    return 0


def register(commands) -> None:
    threadmap = commands.add_parser("threadmap", help="time NumPy's and SciPy's calls over sizes and thread counts: "
                                    "where BLAS threads pay, where they hurt, and what to set")
    add_build_options(threadmap, "the setup mapped, or several side by side (each in an environment of its own)")
    group = threadmap.add_argument_group("map")
    group.add_argument("--calls", action=Listed, allowed=list(CALLS), metavar="CALL",
                       help=f"the calls timed (default all: {', '.join(CALLS)}; NumPy's alone with +numpy-only)")
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
                       help="processes per thread count, interleaved and counterbalanced (1, 2, 4, 4, 2, 1, ...): the rule "
                            "for \"slower\" "
                            "takes one value per process, so that a process that happens to run slower reads as noise, "
                            f"not as a thread effect; {FEWEST_TO_DECIDE} or more can call a difference "
                            f"(default {MapSettings.rounds})")
    group.add_argument("--more-rounds", type=further_rounds, default=MapSettings.more_rounds, metavar="N",
                       help="N further rounds, each measuring only the cells the rounds leave undecided (medians "
                            "beyond the change factor, the test not yet beyond chance), at one thread and where they "
                            "are undecided, whose processes alone then decide them; 0: none, else "
                            f"{FEWEST_TO_DECIDE} or more (default {MapSettings.more_rounds})")
    group.add_argument("--more-time", type=share, default=MapSettings.more_time, metavar="SHARE",
                       help="the further rounds stop once they have taken this share of the rounds' own time "
                            f"(default {MapSettings.more_time:g}: a quarter more)")
    group.add_argument("--call-limit", type=float, default=MapSettings.max_seconds, metavar="SECONDS",
                       help="a call's sizes stop growing where one call at one thread takes longer than this "
                            f"(default {MapSettings.max_seconds:g})")
    group.add_argument("--allow-busy", action="store_true",
                       help="measure even when other processes keep the cores busy")
    add_bisect_option(group)
    threadmap.set_defaults(run=command_threadmap)
    add_results_options(threadmap)
