"""Spends its time printing (10 MB per call), not in the BLAS."""

import sys


def work():
    sys.stdout.write("x" * 10_000_000 + "\n")
    sys.stdout.flush()
