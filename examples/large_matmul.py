"""One large matrix product: where BLAS threads pay best.

    python3 -m nox -s scaling -- --workload examples/large_matmul.py:matmul --workload-args '{"n": 2000}'
"""

import numpy as np


def setup(n=1500):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, n)), rng.standard_normal((n, n))


def matmul(operands, n=1500):
    a, b = operands
    return a @ b
