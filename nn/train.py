"""Full-batch training with ``scipy.optimize.minimize(method='CG')``, as in the seed."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.optimize

from .data import Split
from .network import Network, one_hot


@dataclass
class Iteration:
    iteration: int
    cost: float
    seconds: float  # optimiser time for this iteration, excluding the accuracy check
    evaluations: int  # cost-and-gradient evaluations so far
    cv_accuracy: float | None = None


@dataclass
class Training:
    history: list[Iteration] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    message: str = ""

    @property
    def seconds_per_iteration(self) -> float:
        return statistics.median(i.seconds for i in self.history) if self.history else float("nan")

    @property
    def seconds_per_iteration_iqr(self) -> float:
        seconds = [i.seconds for i in self.history]
        if len(seconds) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(seconds, n=4)
        return q3 - q1


def train(network: Network, train_set: Split, iterations: int, cv_set: Split | None = None,
          on_iteration: Callable[[Iteration], None] | None = None, cv_every: int = 1) -> Training:
    """Run ``iterations`` CG iterations on the whole of ``train_set``, updating ``network.theta``;
    the cross-validation accuracy is recorded every ``cv_every`` iterations (0: never)."""
    Y = one_hot(train_set.y, network.layers[-1], network.dtype)
    X = train_set.X
    result = Training()

    def cost_and_gradient(theta):
        result.evaluations += 1
        return network.cost_and_gradient(theta, X, Y)

    clock = [time.perf_counter()]

    def callback(intermediate_result: scipy.optimize.OptimizeResult):
        seconds = time.perf_counter() - clock[0]
        number = len(result.history) + 1
        check = cv_set is not None and cv_every > 0 and number % cv_every == 0
        accuracy = network.accuracy(cv_set.X, cv_set.y, intermediate_result.x) if check else None
        step = Iteration(number, float(intermediate_result.fun), seconds,
                         result.evaluations, accuracy)
        result.history.append(step)
        if on_iteration:
            on_iteration(step)
        clock[0] = time.perf_counter()

    started = time.perf_counter()
    optimum = scipy.optimize.minimize(cost_and_gradient, network.theta.astype(np.float64), jac=True, method="CG",
                                      callback=callback, options={"maxiter": iterations})
    result.seconds = time.perf_counter() - started
    result.message = str(optimum.message)
    network.theta = np.asarray(optimum.x, dtype=network.dtype)
    return result
