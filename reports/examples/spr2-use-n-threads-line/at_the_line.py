"""A call whose second thread cuts its time by about 10%: the "use N threads" rule's line on 2 cores.

A matrix product (BLAS: threads pay) and a sort (NumPy's own loop: one thread whatever the setting),
the sort's length setting the share threads cannot help.

    python3 -m blasbench scaling --installed --workload at_the_line.py:product_and_sort --repeats 5
"""

import numpy as np


def setup(n=400, m=400_000):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal(m)


def product_and_sort(operands, n=400, m=400_000):
    a, b, v = operands
    return (a @ b)[0, 0] + np.sort(v)[0]
