"""A least-squares fit with SciPy's L-BFGS-B: the kind of problem of SciPy issue 22438, where
L-BFGS-B (rewritten in C with LAPACK calls in SciPy 1.15) ran much slower unless OpenBLAS was held
to one thread, and projects wrapped `minimize` in `threadpool_limits(1)` by hand.

    python3 -m nox -s scaling -- --workload examples/lbfgsb_fit.py:fit
"""

import numpy as np
from scipy.optimize import minimize


def setup(parameters=200, observations=2000):
    """A noisy linear model (untimed, once per process)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((observations, parameters))
    return a, a @ rng.standard_normal(parameters) + 0.1 * rng.standard_normal(observations)


def fit(problem, parameters=200, observations=2000):
    """50 L-BFGS-B iterations on the squared residual, its gradient by hand."""
    a, b = problem

    def cost_and_gradient(x):
        residual = a @ x - b
        return 0.5 * residual @ residual, a.T @ residual

    return minimize(cost_and_gradient, np.zeros(parameters), jac=True, method="L-BFGS-B",
                    options={"maxiter": 50}).x
