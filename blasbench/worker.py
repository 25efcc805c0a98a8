"""Every child the measurements start, in one module (pyperf's ``_worker``): ``python -m
blasbench.worker COMMAND`` in a fresh process, so that the thread variables take effect before any
library starts its pool.

- ``train ...``: the workload's own command line (``python -m nn train``) with the harness's full
  provenance recorded in its result; ``train --peer torch ...`` trains the same network with
  PyTorch computing its cost and gradient.
- ``dgemm``: the DGEMM rate and the threads threadpoolctl reports (optionally under
  ``threadpool_limits``).
- ``evaluations``: one cost-and-gradient of a rung over hidden sizes and numbers of examples.
- ``threadmap``: NumPy's and SciPy's calls (:mod:`.calls`) timed over sizes at this thread count.
- ``provenance``: this environment's provenance, from which its identity is read.

The parents (:mod:`.sweep`, :mod:`.why`, :mod:`.variants`) only start these and read their JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from nn.__main__ import main as train_main

from . import provenance
from .facts import CELL_SECONDS
from .peers import trained_network
from .stats import summarize


def _blas_info() -> tuple[int | None, str]:
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries loaded so far)
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    # threadpoolctl knows no reference BLAS: it runs one thread, unthreaded.
    return (blas[0]["num_threads"], blas[0]["threading_layer"]) if blas else (None, "none known to threadpoolctl")


def child_dgemm(size: int, threadpoolctl_limit: int | None) -> dict:
    from .verify import peak_gflops_per_core, time_dgemm

    threads, layer = _blas_info()
    dgemm = time_dgemm(size, 3, threadpoolctl_limit)
    if threadpoolctl_limit is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=threadpoolctl_limit, user_api="blas"):
            threads, _ = _blas_info()
    return {"reported_threads": threads, "threading_layer": layer, "dgemm": dgemm,
            "usable_cores": provenance.usable_cores(), "peak_gflops_per_core_estimate": peak_gflops_per_core()}


def child_evaluations(rung: str, hidden_sizes: list[int], example_counts: list[int], repeats: int) -> list[dict]:
    """Median seconds of one cost-and-gradient of ``rung`` for each (hidden size, examples) cell."""
    from nn.data import load_packaged, seed_splits
    from nn.network import Network, one_hot
    from nn.options import LAYERS, LMBDA, RUNGS

    train_set, _, _ = seed_splits(load_packaged(), max(example_counts))
    cells = []
    for hidden in hidden_sizes:
        for m in example_counts:
            X, Y = train_set.X[:, :m].copy(), one_hot(train_set.y[:m], 10)
            network = Network([LAYERS[0], hidden, LAYERS[-1]], LMBDA, RUNGS[rung], seed=0)
            network.cost_and_gradient(network.theta, X, Y)  # warm-up: buffers, thread start
            seconds = []
            for _ in range(repeats):
                started = time.perf_counter()
                network.cost_and_gradient(network.theta, X, Y)
                seconds.append(time.perf_counter() - started)
            cells.append({"hidden": hidden, "examples": m, "seconds": summarize(seconds)})
    return cells


def time_call(run, operands, repeats: int) -> tuple[int, dict]:
    """Seconds per call of ``run(*operands)``: the count of calls per measurement auto-ranged (1, 2,
    5, 10, ... until a measurement lasts CELL_SECONDS), then the median and spread of ``repeats``."""
    import timeit

    timer = timeit.Timer(lambda: run(*operands))
    number = 1
    for number in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000):
        if timer.timeit(number) >= CELL_SECONDS:
            break
    return number, summarize([seconds / number for seconds in timer.repeat(repeats, number)])


def child_threadmap(calls: list[str], dtypes: list[str], sizes: list[int], repeats: int, max_seconds: float,
                    only: dict | None) -> list[dict]:
    """Every (call, dtype, size) cell at this process's thread count. A call's sizes stop growing at
    the first whose single call takes longer than ``max_seconds``; ``only`` (call -> dtype -> largest
    size) limits the cells to those another thread count measured."""
    import numpy as np

    from .calls import CALLS

    rng = np.random.default_rng(0)
    cells = []
    for call in calls:
        for dtype in dtypes:
            for n in sizes:
                if only is not None and n > only.get(call, {}).get(dtype, 0):
                    break
                operands = CALLS[call].setup(n, dtype, rng)
                started = time.perf_counter()
                CALLS[call].run(*operands)  # the warm-up: thread start, first touch of the result
                if only is None and time.perf_counter() - started > max_seconds:
                    cells.append({"call": call, "dtype": dtype, "n": n, "skipped": f"one call took over {max_seconds:g} s"})
                    break
                number, seconds = time_call(CALLS[call].run, operands, repeats)
                cells.append({"call": call, "dtype": dtype, "n": n, "number": number, "seconds": seconds})
    return cells


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        if argv[1:2] == ["--peer"]:
            return train_main([argv[0], *argv[3:]], environment=provenance.collect,
                              network_class=trained_network(argv[2]))
        return train_main(argv, environment=provenance.collect)
    parser = argparse.ArgumentParser(prog="python -m blasbench.worker", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="the workload's `python -m nn train`, with provenance")
    dgemm = commands.add_parser("dgemm", help="the DGEMM rate and the threads threadpoolctl reports")
    dgemm.add_argument("--size", type=int, default=1024)
    dgemm.add_argument("--threadpoolctl", type=int, help="limit with threadpoolctl at run time")
    evaluations = commands.add_parser("evaluations", help="one cost-and-gradient per (hidden size, examples) cell")
    evaluations.add_argument("--rung", required=True)
    evaluations.add_argument("--hidden", required=True)
    evaluations.add_argument("--examples", required=True)
    evaluations.add_argument("--repeats", type=int, default=3)
    threadmap = commands.add_parser("threadmap", help="time NumPy's and SciPy's calls over sizes at this thread count")
    threadmap.add_argument("--calls", required=True, help="call names, separated by |")
    threadmap.add_argument("--dtypes", required=True)
    threadmap.add_argument("--sizes", required=True)
    threadmap.add_argument("--repeats", type=int, default=5)
    threadmap.add_argument("--max-seconds", type=float, default=1.0)
    threadmap.add_argument("--only", help="JSON: call -> dtype -> the largest size to measure")
    commands.add_parser("provenance", help="this environment's provenance (its identity's source)")
    args = parser.parse_args(argv)
    if args.command == "dgemm":
        result = child_dgemm(args.size, args.threadpoolctl)
    elif args.command == "threadmap":
        import scipy.linalg  # noqa: F401  (loaded before the provenance: every BLAS the calls use is seen)

        cells = child_threadmap(args.calls.split("|"), args.dtypes.split(","), [int(n) for n in args.sizes.split(",")],
                                args.repeats, args.max_seconds, json.loads(args.only) if args.only else None)
        result = {"cells": cells, "environment": provenance.collect()}
    elif args.command == "evaluations":
        result = child_evaluations(args.rung, [int(n) for n in args.hidden.split(",")],
                                   [int(n) for n in args.examples.split(",")], args.repeats)
    else:
        import numpy  # noqa: F401  (provenance records the NumPy configuration)
        import scipy.linalg  # noqa: F401  (and every BLAS a training run loads: PyPI's SciPy brings its own)

        result = provenance.collect()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
