"""``compare``: result directories of several runs, machines or commits side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import UserError
from ..facts import CHANGE_FACTOR
from ..render import render_all
from ..results.change import FAIL_ON, FAMILY_ALPHA
from ..results.compare import check_shared, compare_dirs, gate_comparison
from ..results.directory import Results
from ..results.kinds import write_result
from ..results.kinds.compare import KIND as COMPARE
from ..store import one_writer


def command_compare(args: argparse.Namespace) -> int:
    if len(args.directories) < 2:
        raise UserError("compare needs two or more result directories: python3 -m nox -s compare -- DIR_A DIR_B [...]")
    examples = (Path("reports") / "examples").resolve()
    if args.results.resolve().is_relative_to(examples):
        raise UserError(f"{args.results} is inside the committed examples ({examples}): pass another --results DIR.")
    comparison = compare_dirs(args.directories, args.factor)
    check_shared(comparison, args.directories)
    with one_writer(args.results, "compare"):
        write_result(args.results / COMPARE.file, comparison)
        print(f"wrote {args.results / COMPARE.file}")
        for path in render_all(Results.load(args.results)):
            print(f"wrote {path}")
    return command_gate(comparison, args.fail_on) if args.fail_on else 0


# compare --fail-on's exit statuses beyond 0 (pass), 1 (fail) and 2 (an error): the processes cannot decide
UNDECIDABLE = 3


def command_gate(comparison: dict, fail_on: str) -> int:
    """For CI: 1, naming each measure, when any is ``fail_on`` against the baseline by the rule for "changed"
    and survives its control over every measure compared (:func:`blasbench.results.change.gate`); 3 when the
    processes cannot decide (naming how many would); 0 when none is. What was compared, and what was not,
    is said first; a comparison of no shared measure is an error."""
    found = gate_comparison(comparison, fail_on)
    unmatched = comparison["unmatched"]
    print(f"gate --fail-on {fail_on}: {found['compared']} measure(s) in both runs, "
          f"{'measured in one job, in turn' if comparison['together'] else 'measured apart'}" +
          (f"; not compared: {unmatched['base']} of the baseline's, {unmatched['other']} of the new run's"
           if any(unmatched.values()) else "") +
          (f"; the runs differ in {', '.join(comparison['differs_in'])}" if comparison["differs_in"] else ""))
    for word, listed in (("FAIL", found["failing"]), ("open", found["open"])):
        for row in listed:
            p = f"; p = {row['p']:.3g}" if row["p"] is not None else ""
            print(f"{word}: {describe(row)}: {row['verdict']}, {row['ratio']:.2f}x the baseline's time{p}")
    control = (f"Holm's control at {found['family_alpha']:g} over {found['compared']} measure(s): p below "
               f"{found['threshold']:.2g} for the first")
    if found["status"] == "fail":
        print(f"FAIL: {len(found['failing'])} of {found['compared']} measure(s) {fail_on} beyond the change factor and "
              f"{control}.")
        return 1
    if found["status"] == "undecidable":
        print(f"UNDECIDABLE: {len(found['open'])} of {found['compared']} measure(s) open, and {control}, which "
              f"needs {found['processes_needed']} processes a side wholly apart: measure both runs with "
              f"`--rounds {found['processes_needed']}` (or `--repeats` as many), or gate fewer measures.")
        return UNDECIDABLE
    print(f"pass: no measure {fail_on} beyond the change factor and {control}; {len(found['open'])} open.")
    return 0


def describe(row: dict) -> str:
    key = row["key"]
    return f"{row['table']} {key[0]} ({key[1]}) at {key[2]} thread(s) (run {row['other_label']})"


def register(commands) -> None:
    compare = commands.add_parser("compare", help="merge result directories of several runs or machines into one report")
    compare.add_argument("directories", nargs="+", type=Path, help="result directories; the first is the baseline")
    compare.add_argument("--factor", type=float, default=CHANGE_FACTOR,
                         help=f"the change factor: the smallest ratio of medians that can be a change (default {CHANGE_FACTOR}, "
                              "as asv's); the rule's test must agree")
    compare.add_argument("--results", type=Path, default=Path("reports") / "compare",
                         help="where compare.json, compare.md and its index.md go (default reports/compare)")
    compare.add_argument("--fail-on", choices=list(FAIL_ON),
                         help="a gate for CI: exit 1 when a measure is slower (faster, changed) than in the first directory "
                              f"by the rule for \"changed\" and Holm's control at {FAMILY_ALPHA} over every measure "
                              "compared, 3 when the processes cannot decide, 0 when none is, 2 on an error")
    compare.set_defaults(run=command_compare)
