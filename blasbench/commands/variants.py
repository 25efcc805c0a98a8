"""Several setups side by side, as ``scaling`` and ``threadmap`` measure them when ``--setup`` names
more than one: each built (cached) in an environment of its own, its runtime limits probed, then its
sweep (``scaling``) or its threading map (``threadmap``), a repeat or a round of each setup in turn."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .. import UserError
from ..measuring.sweep import ScalingSettings
from ..measuring.threadmap import MapSettings
from ..measuring.variants import compare_variants
from ..render import render_all
from ..results.directory import Results
from ..setups import Setup, variant_of
from .options import ensure_quiet


def side_by_side(setups: list[Setup]) -> bool:
    """Whether ``setups`` are measured side by side: more than one, none of them a release (a release
    axis is measured in order, :mod:`.releases`)."""
    return len(setups) > 1 and not any(setup.release for setup in setups)


def measure_side_by_side(args: argparse.Namespace, setups: list[Setup], settings: ScalingSettings | None = None,
                         map_settings: MapSettings | None = None) -> int:
    """``setups`` built and measured side by side into ``args.results``: the sweep of ``settings``, or
    the threading map of ``map_settings``, beside each one's runtime limits (probed once, whichever
    measures first); setups.md reports them (also after an error or Ctrl-C)."""
    variants = [variant_of(setup) for setup in setups]
    if len({variant.name for variant in variants}) < len(variants):
        raise UserError(f"--setup {' '.join(map(str, setups))}: side by side, each setup of another kind or flavour "
                        "(their results are kept by it); compare other releases of NumPy or SciPy with `compare`.")
    return reported(args.results, "setups.md", lambda: compare_variants(
        variants, settings, args.results, quiet=lambda: ensure_quiet(args), map_settings=map_settings))


def reported(results: Path, page: str, measure: Callable[[], list[str]]) -> int:
    """``measure()`` (several side by side: the names of those it could not measure), its report rendered
    also after an error or Ctrl-C; the others named in one line where some failed."""
    try:
        failed = measure()
    finally:
        render_all(Results.load(results))
    print(f"report: {results / page}")
    if failed:
        raise UserError(f"not measured: {', '.join(failed)} (see above); the report shows the others.")
    return 0

