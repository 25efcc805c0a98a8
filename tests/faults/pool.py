"""Maps a helper of this file over a process pool, as joblib, concurrent.futures and Dask users do:
the helper is pickled by its module's name, so the file must be imported under that name."""

import multiprocessing

import numpy as np


def _row_norm(row):
    return float(np.sqrt(row @ row))


def setup(n=64):
    return np.random.default_rng(0).standard_normal((n, n))


def work(a, n=64):
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return np.array(pool.map(_row_norm, list(a)))
