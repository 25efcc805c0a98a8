"""``report``: every Markdown report rendered again from the JSON results, nothing rerun."""

from __future__ import annotations

import argparse

from ..render import render_all
from ..results.directory import Results
from .options import add_results_options


def command_report(args: argparse.Namespace) -> int:
    for path in render_all(Results.load(args.results)):
        print(f"wrote {path}")
    return 0


def register(commands) -> None:
    report = commands.add_parser("report", help="render the Markdown reports again from the JSON results (a directory "
                                 "that exists: nothing is created)")
    report.set_defaults(run=command_report)
    add_results_options(report)
