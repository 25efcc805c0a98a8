"""Many small SVDs one after another: the kind of loop in OpenBLAS issue 731, where a test suite of
small decompositions ran 4x slower on a threaded OpenBLAS than on the reference BLAS.

    python3 -m nox -s scaling -- --workload examples/small_svds.py:svd_many
"""

import numpy as np


def setup(n=12, count=500):
    """``count`` random n×n matrices (untimed, once per process)."""
    return np.random.default_rng(0).standard_normal((count, n, n))


def svd_many(matrices, n=12, count=500):
    """The singular values of each matrix, one LAPACK call each."""
    return np.stack([np.linalg.svd(m, compute_uv=False) for m in matrices])
