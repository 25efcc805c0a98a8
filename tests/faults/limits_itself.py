"""Limits the BLAS to one thread inside itself, whatever the sweep asks for."""

import numpy as np
from threadpoolctl import threadpool_limits


def setup(n=400):
    return np.random.default_rng(0).standard_normal((n, n))


def work(a, n=400):
    with threadpool_limits(1):
        return a @ a
