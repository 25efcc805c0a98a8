"""The network's implementation switches and the seed's optimisation ladder. Importing this
module loads no NumPy, so command lines can offer the choices before NumPy is installed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

from . import WorkloadError

SIGMOID_BACKENDS = ("numpy", "expit", "numexpr")
# The post's workload, the default everywhere: its network, L2 strength, CG iterations and training examples.
LAYERS = (784, 300, 10)
LMBDA = 5.0
ITERATIONS = 50
TRAIN_SIZE = 50_000


@dataclass(frozen=True)
class Options:
    """The implementation switches; none of them changes the mathematics."""

    sigmoid: str = "numpy"  # numpy | expit | numexpr
    recompute_sigmoid: bool = True  # seed start: sigma'(z) = sigma(z)(1 - sigma(z)) evaluates sigma twice more
    contiguous: bool = False  # copy transposed operands before the matrix products
    fused: bool = False  # beyond the seed: fused numexpr expressions into reused buffers
    data_parallel: bool = False  # beyond the seed: chunks of examples on a pool of threads, BLAS single-threaded
    chunks: int = 0  # with data_parallel: how many equal chunks (0: network.chunk_bounds' guided split)

    def __post_init__(self):
        if self.sigmoid not in SIGMOID_BACKENDS:
            raise WorkloadError(f"Unknown sigmoid backend {self.sigmoid!r}: choose one of {', '.join(SIGMOID_BACKENDS)}.")
        if self.fused and self.sigmoid != "numexpr":
            raise WorkloadError("--fused needs --sigmoid numexpr (the fused expressions are numexpr's).")
        if self.data_parallel and not self.fused:
            raise WorkloadError("--data-parallel needs --fused (each chunk runs the fused expressions).")
        if self.chunks < 0 or (self.chunks and not self.data_parallel):
            raise WorkloadError("--chunks needs --data-parallel and a count of 1 or more.")


SEED_START = Options()
# The seed's optimisation ladder, each rung one more step; the last two go beyond the post.
RUNGS = {
    "0-seed": SEED_START,
    "1-expit": replace(SEED_START, sigmoid="expit"),
    "2-reuse-sigma": replace(SEED_START, sigmoid="expit", recompute_sigmoid=False),
    "3-numexpr": replace(SEED_START, sigmoid="numexpr", recompute_sigmoid=False),
    "4-contiguous": replace(SEED_START, sigmoid="numexpr", recompute_sigmoid=False, contiguous=True),
    "5-fused-buffers": Options(sigmoid="numexpr", recompute_sigmoid=False, fused=True),
    "6-data-parallel": Options(sigmoid="numexpr", recompute_sigmoid=False, fused=True, data_parallel=True),
}


def positive(text: str, least: int = 1) -> int:
    """A command-line count: a whole number, ``least`` (1) or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is {'not positive' if least == 1 else 'negative'}: give {least} or more")
    return value


def zero_or_more(text: str) -> int:
    """A command-line count that may be 0 (none)."""
    return positive(text, least=0)


class Parser(argparse.ArgumentParser):
    """A command line whose errors are one line (what is wrong, and where the help is), not a
    usage block."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")
