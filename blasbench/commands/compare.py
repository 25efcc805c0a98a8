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


def command_compare(args: argparse.Namespace) -> int:
    if len(args.directories) < 2:
        raise UserError("compare needs two or more result directories: python3 -m nox -s compare -- DIR_A DIR_B [...]")
    examples = (Path("reports") / "examples").resolve()
    if args.output.resolve().is_relative_to(examples):
        raise UserError(f"{args.output} is inside the committed examples ({examples}): pass another --output DIR.")
    comparison = compare_dirs(args.directories, args.factor)
    write_result(args.output / "compare.json", comparison)
    print(f"wrote {args.output / 'compare.json'}")
    for path in render_all(Results.load(args.output)):
        print(f"wrote {path}")
    return 0


def register(commands) -> None:
    compare = commands.add_parser("compare", help="merge result directories of several runs or machines into one report")
    compare.add_argument("directories", nargs="+", type=Path, help="result directories; the first is the baseline")
    compare.add_argument("--factor", type=float, default=CHANGE_FACTOR,
                         help=f"smallest ratio flagged as a change (default {CHANGE_FACTOR}, as asv's)")
    compare.add_argument("--output", type=Path, default=Path("reports") / "compare",
                         help="where compare.json, compare.md and its index.md go (default reports/compare)")
    compare.set_defaults(run=command_compare)
