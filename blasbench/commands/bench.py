"""``bench``: one cost-and-gradient per rung at 1 and all threads, against DGEMM and PyTorch."""

from __future__ import annotations

import argparse

from nn.options import RUNGS, TRAIN_SIZE, positive

from .. import UserError
from ..measuring.bench import REPEATS, run_bench
from ..render import render_all
from ..results.directory import Results
from ..results.kinds import write_result
from .options import (
    Listed,
    add_build_options,
    add_peers_option,
    add_results_options,
    check_installed,
    chosen_peers,
    on_installed,
    recorded_build,
    writable_results,
)


def command_bench(args: argparse.Namespace) -> int:
    peers = chosen_peers(args)  # before the build: a peer missing is one line
    writable_results(args.results)
    if on_installed(args):
        check_installed("numpy", "scipy", "numexpr")
    elif recorded_build(args)["verification"]["status"] == "failed":
        raise UserError("the build failed verification (see above): its timings would not mean anything.")
    result = run_bench(args.rungs, args.train_size, args.evaluations, peers=peers, dtypes=args.dtypes)
    write_result(args.results / "bench.json", result)
    render_all(Results.load(args.results))
    print(f"wrote {args.results / 'bench.json'} and {args.results / 'bench.md'}")
    return 0


def register(commands) -> None:
    bench = commands.add_parser("bench", help="time one cost-and-gradient per rung against DGEMM, at 1 and all threads")
    add_build_options(bench)
    bench.add_argument("--rungs", action=Listed, allowed=RUNGS, default=list(RUNGS), metavar="RUNG",
                       help=f"the rungs measured (default all: {', '.join(RUNGS)})")
    bench.add_argument("--train-size", type=positive, default=TRAIN_SIZE,
                       help=f"examples in the evaluated batch (default {TRAIN_SIZE:,})")
    bench.add_argument("--evaluations", type=positive, default=REPEATS,
                       help=f"timed evaluations per rung, dtype and thread count, after a warm-up (default {REPEATS})")
    bench.add_argument("--dtypes", action=Listed, allowed=("float64", "float32"), default=["float64", "float32"],
                       help="precisions of the rungs' cost and gradient (default both)")
    add_peers_option(bench, "measured beside the rungs")
    bench.set_defaults(run=command_bench)
    add_results_options(bench)
