"""Build NumPy and SciPy from source against OpenBLAS, prove the BLAS runs in
parallel, and measure how a real workload scales with threads."""

__version__ = "0.1.0"


class UserError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""


class MachineBusy(UserError):
    """Other processes keep the cores busy: timings now would measure them, so nothing is timed."""


def last_line(text: str) -> str:
    """The last non-empty line of a command's output, for one-line error messages."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
