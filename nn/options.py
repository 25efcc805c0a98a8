"""The network's implementation switches and the seed's optimisation ladder. Importing this
module loads no NumPy, so command lines can offer the choices before NumPy is installed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

from . import WorkloadError

SIGMOID_BACKENDS = ("numpy", "expit", "numexpr")


@dataclass(frozen=True)
class Options:
    """The implementation switches; none of them changes the mathematics."""

    sigmoid: str = "numpy"  # numpy | expit | numexpr
    recompute_sigmoid: bool = True  # seed start: sigma'(z) = sigma(z)(1 - sigma(z)) evaluates sigma twice more
    contiguous: bool = False  # copy transposed operands before the matrix products
    fused: bool = False  # beyond the seed: fused numexpr expressions into reused buffers

    def __post_init__(self):
        if self.sigmoid not in SIGMOID_BACKENDS:
            raise WorkloadError(f"Unknown sigmoid backend {self.sigmoid!r}: choose one of {', '.join(SIGMOID_BACKENDS)}.")
        if self.fused and self.sigmoid != "numexpr":
            raise WorkloadError("--fused needs --sigmoid numexpr (the fused expressions are numexpr's).")


SEED_START = Options()
# The seed's optimisation ladder, each rung one more step; the last goes beyond the post.
RUNGS = {
    "0-seed": SEED_START,
    "1-expit": replace(SEED_START, sigmoid="expit"),
    "2-reuse-sigma": replace(SEED_START, sigmoid="expit", recompute_sigmoid=False),
    "3-numexpr": replace(SEED_START, sigmoid="numexpr", recompute_sigmoid=False),
    "4-contiguous": replace(SEED_START, sigmoid="numexpr", recompute_sigmoid=False, contiguous=True),
    "5-fused-buffers": Options(sigmoid="numexpr", recompute_sigmoid=False, fused=True),
}


def positive(text: str) -> int:
    """A command-line count: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive: give 1 or more")
    return value


class Parser(argparse.ArgumentParser):
    """A command line whose errors are one line (what is wrong, and where the help is), not a
    usage block."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")
