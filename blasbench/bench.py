"""One full-batch cost-and-gradient evaluation per rung, at one and at all threads, against
the DGEMM rate measured in the same run. A benchmark that prints figures, not a timed test."""

from __future__ import annotations

import os
import time

from . import provenance
from .stats import summarize
from .verify import time_dgemm


def product_flops(layers: list[int], m: int) -> int:
    """FLOPs of the matrix products in one evaluation: the forward product of every layer, the
    weight-gradient product of every layer, and the backward product of every layer but the first."""
    pairs = list(zip(layers[1:], layers[:-1]))
    forward_and_gradient = sum(2 * 2 * n_out * n_in * m for n_out, n_in in pairs)
    backward = sum(2 * n_out * n_in * m for n_out, n_in in pairs[1:])
    return forward_and_gradient + backward


def run_bench(rungs: list[str], train_size: int = 50000, repeats: int = 5, dgemm_size: int = 3000) -> dict:
    import numexpr
    from threadpoolctl import threadpool_limits

    from nn.data import load_packaged, seed_splits
    from nn.network import Network, one_hot
    from nn.options import RUNGS

    load_before, busy_before, own_before = os.getloadavg(), provenance.busy_cpu_seconds(), time.process_time()
    started = time.perf_counter()
    train_set, _, _ = seed_splits(load_packaged(), train_size)
    Y = one_hot(train_set.y, 10)
    layers = [784, 300, 10]
    flops = product_flops(layers, train_size)
    cores = provenance.usable_cores()
    rows = []
    for threads in sorted({1, cores}):
        numexpr.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            dgemm = time_dgemm(dgemm_size, 3, threads)
            for rung in rungs:
                network = Network(layers, 5.0, RUNGS[rung], seed=0)
                network.cost_and_gradient(network.theta, train_set.X, Y)  # warm-up: buffers, page faults
                seconds = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    network.cost_and_gradient(network.theta, train_set.X, Y)
                    seconds.append(time.perf_counter() - started)
                spread = summarize(seconds)
                gflops = flops / spread["median"] / 1e9
                rows.append({"rung": rung, "threads": threads, "seconds": spread, "gflops": gflops,
                             "dgemm_gflops": dgemm["gflops"], "share_of_dgemm": gflops / dgemm["gflops"]})
                print(f"{rung:<16} {threads:>2} threads  {spread['median']:.3f} s (IQR {spread['iqr']:.3f})  "
                      f"{gflops:5.1f} GFLOP/s = {100 * gflops / dgemm['gflops']:.0f}% of DGEMM ({dgemm['gflops']:.1f})",
                      flush=True)
    environment = provenance.collect()
    return {"kind": "bench", "train_size": train_size, "layers": layers, "product_flops": flops,
            "repeats": repeats, "dgemm_size": dgemm_size, "rows": rows, "environment": environment,
            "identity": provenance.identity(environment), "load": {"load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
            "other_cores": max(0.0, provenance.busy_cpu_seconds() - busy_before - (time.process_time() - own_before))
            / (time.perf_counter() - started)}}
