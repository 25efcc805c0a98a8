"""``compare``: result directories of several runs, machines or commits side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import UserError
from ..facts import CHANGE_FACTOR
from ..render import render_all
from ..results.compare import compare_dirs
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
    with one_writer(args.results, "compare"):
        write_result(args.results / COMPARE.file, comparison)
        print(f"wrote {args.results / COMPARE.file}")
        for path in render_all(Results.load(args.results)):
            print(f"wrote {path}")
    return gate(comparison, args.fail_on) if args.fail_on else 0


# --fail-on WHAT -> the verdicts that fail the gate
FAIL_ON = {"slower": ("slower",), "faster": ("faster",), "changed": ("slower", "faster")}


def gate(comparison: dict, fail_on: str) -> int:
    """For CI: 1, naming each measure, when any is ``fail_on`` against the baseline by the rule for
    "changed"; 0 when none is (undecided measures are listed, and do not fail)."""
    rows = [(table, row) for table, found in comparison["tables"].items() for row in found]
    failing = [(t, r) for t, r in rows if r["verdict"] in FAIL_ON[fail_on]]
    undecided = [(t, r) for t, r in rows if r["verdict"] == "undecided"]
    for word, found in (("FAIL", failing), ("undecided", undecided)):
        for table, row in found:
            p = f"; p = {row['p']:.3g}" if row["p"] is not None else ""
            print(f"{word}: {table} {row['key'][0]} ({row['key'][1]}) at {row['key'][2]} thread(s): {row['verdict']}, "
                  f"{row['ratio']:.2f}x the baseline's time (run {row['other_label']}{p})")
    print(f"gate --fail-on {fail_on}: {len(failing)} of {len(rows)} measures {fail_on}, {len(undecided)} undecided: "
          + ("FAIL." if failing else "pass."))
    return 1 if failing else 0


def register(commands) -> None:
    compare = commands.add_parser("compare", help="merge result directories of several runs or machines into one report")
    compare.add_argument("directories", nargs="+", type=Path, help="result directories; the first is the baseline")
    compare.add_argument("--factor", type=float, default=CHANGE_FACTOR,
                         help=f"the change factor: the smallest ratio of medians that can be a change (default {CHANGE_FACTOR}, "
                              "as asv's); the rule's test must agree")
    compare.add_argument("--results", "--output", type=Path, default=Path("reports") / "compare",
                         help="where compare.json, compare.md and its index.md go (default reports/compare)")
    compare.add_argument("--fail-on", choices=list(FAIL_ON),
                         help="a gate for CI: exit 1 when any measure is slower (faster, changed) than in the first "
                              "directory by the rule for \"changed\", 0 when none is, 2 on an error")
    compare.set_defaults(run=command_compare)
