"""Many small linear solves one after another: the loop of OpenBLAS issue 4387, where 23×23 solves
ran 16x slower with OpenBLAS's threads than with OPENBLAS_NUM_THREADS=1.

    python3 -m nox -s scaling -- --workload examples/small_solves.py:solve_many
"""

import numpy as np


def setup(n=23, count=200):
    """``count`` well-conditioned n×n systems (untimed, once per process)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((count, n, n)) + n * np.eye(n)
    b = rng.standard_normal((count, n))
    return a, b


def solve_many(systems, n=23, count=200):
    """Each system solved on its own, as a simulation's time steps would: one LAPACK call each."""
    a, b = systems
    return np.stack([np.linalg.solve(a[i], b[i]) for i in range(count)])
