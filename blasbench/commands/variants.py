"""``compare-variants``: several BLAS setups built (cached) and swept side by side in one run."""

from __future__ import annotations

import argparse
from pathlib import Path

from nn.options import RUNGS

from .. import UserError
from ..facts import DGEMM_SIZE, WAIT_QUIET_SECONDS
from ..measuring.threadmap import DEFAULT_SIZES, MapSettings
from ..measuring.variants import compare_variants
from ..measuring.workload import NETWORK
from ..render import render_all
from ..results.directory import Results
from ..setups import DEFAULT_VARIANTS, VARIANTS, variant_of
from .options import (
    add_results_options,
    add_setup_option,
    add_sweep_options,
    add_workload_options,
    chosen_setups,
    ensure_quiet,
    writable_results,
)
from .scaling import scaling_settings, with_function

# compare-variants trains the post's end: all its parallelism is the BLAS's, which is what is compared.
VARIANTS_RUNG = "4-contiguous"

# compare-variants --threadmap --quick: a few sizes, from where threads hurt to where they pay.
QUICK_SIZES = (2, 16, 128, 512)

# compare-variants: short runs, since the reference BLAS is an order of magnitude slower; five repeats,
# the fewest with which the rule for "changed" can tell the fastest from the next (p < 0.01).
VARIANTS_WORKLOAD = {"iterations": 10, "train_size": 10000, "repeats": 5}



def command_compare_variants(args: argparse.Namespace) -> int:
    settings = scaling_settings(args, [args.rung], VARIANTS_WORKLOAD)
    if args.workload != NETWORK:
        settings = with_function(args, settings)
    setups = chosen_setups(args)
    names = list(dict.fromkeys(variant_of(setup).name for setup in setups))
    site_cfg = next((Path(setup.option) for setup in setups if setup.kind == "site-cfg"), None)
    writable_results(args.results)
    try:
        maps = (MapSettings(threads=settings.threads, sizes=QUICK_SIZES if args.quick else DEFAULT_SIZES)
                if args.threadmap else None)
        failed = compare_variants(names, settings, args.results, site_cfg,
                                  dgemm_size=256 if args.quick else DGEMM_SIZE, quiet=lambda: ensure_quiet(args),
                                  map_settings=maps)
    finally:
        render_all(Results.load(args.results))
    print(f"report: {args.results / 'variants.md'}")
    if failed:
        raise UserError(f"not measured: {', '.join(failed)} (see above); the report shows the others.")
    return 0


def register(commands) -> None:
    variants = commands.add_parser("compare-variants", help="build (cached) and sweep several BLAS variants side by side")
    add_setup_option(variants, tuple(str(VARIANTS[name].setup) for name in DEFAULT_VARIANTS), "the setups side by side",
                     f"from {', '.join(str(v.setup) for v in VARIANTS.values())} (site-cfg:PATH for a site.cfg elsewhere)")
    variants.set_defaults(make=[])
    variants.add_argument("--quick", action="store_true", help="a small smoke run: 3 iterations on 5,000 examples, 1 repeat")
    variants.add_argument("--threadmap", action="store_true",
                          help="also map each variant's NumPy and SciPy calls over sizes and thread counts (as `threadmap`; "
                               f"with --quick, sizes {' '.join(map(str, QUICK_SIZES))}): which BLAS threads hurt, and where")
    group = variants.add_argument_group("sweeps")
    group.add_argument("--rung", choices=RUNGS, default=VARIANTS_RUNG,
                       help=f"the training rung every variant runs (default {VARIANTS_RUNG})")
    add_sweep_options(group, VARIANTS_WORKLOAD)
    add_workload_options(group)
    group.add_argument("--wait-quiet", type=float, default=WAIT_QUIET_SECONDS, metavar="SECONDS",
                       help="before each variant's timings, wait up to this long for other processes to leave the "
                            "cores free (default 60), then stop unless --allow-busy")
    variants.set_defaults(run=command_compare_variants)
    add_results_options(variants)
