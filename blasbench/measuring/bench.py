"""One full-batch cost-and-gradient evaluation per rung, at one and at all threads, against
the DGEMM rate measured in the same run. A benchmark that prints figures, not a timed test."""

from __future__ import annotations

import time

from nn.options import LAYERS, LMBDA, TRAIN_SIZE

from .. import provenance
from ..building.verify import time_dgemm
from ..results.identity import identity
from ..results.kinds.bench import bench_label
from ..results.stats import summarize
from .peers import TorchNetwork, torch_description, torch_installed

DGEMM_REPEATS = 3  # the DGEMM rate is the best of these: what the BLAS can reach


def product_flops(layers: list[int], m: int) -> int:
    """FLOPs of the matrix products in one evaluation: the forward product of every layer, the
    weight-gradient product of every layer, and the backward product of every layer but the first."""
    pairs = list(zip(layers[1:], layers[:-1]))
    forward_and_gradient = sum(2 * 2 * n_out * n_in * m for n_out, n_in in pairs)
    backward = sum(2 * n_out * n_in * m for n_out, n_in in pairs[1:])
    return forward_and_gradient + backward


REPEATS = 5  # timed evaluations per cell, after a warm-up


def timed(evaluate, repeats: int) -> dict:
    """Median and spread of ``repeats`` calls, after one warm-up call (buffers, page faults, threads)."""
    evaluate()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        evaluate()
        seconds.append(time.perf_counter() - started)
    return summarize(seconds)


def run_bench(rungs: list[str], train_size: int = TRAIN_SIZE, repeats: int = REPEATS, dgemm_size: int = 3000,
              peers: list[str] = (), dtypes: list[str] = ("float64",)) -> dict:
    """Every rung in each of ``dtypes``, and every installed peer of ``peers``, at one and at all threads."""
    with provenance.load_around() as load:
        rows = measure(rungs, train_size, repeats, dgemm_size, peers, dtypes)
    environment = provenance.collect()
    return {"kind": "bench", "train_size": train_size, "layers": list(LAYERS), "product_flops": product_flops(LAYERS, train_size),
            "dtypes": list(dtypes), "repeats": repeats, "dgemm_size": dgemm_size, "dgemm_repeats": DGEMM_REPEATS,
            "rows": rows, "environment": environment,
            "peers": {"torch": torch_description() if torch_installed() else None} if "torch" in peers else {},
            "identity": identity(environment), "load": load}


def measure(rungs, train_size, repeats, dgemm_size, peers, dtypes) -> list[dict]:
    """The rows of run_bench: every candidate at one and at all threads, printed as it is measured."""
    import numexpr
    import numpy as np
    from threadpoolctl import threadpool_limits

    from nn.data import load_packaged, seed_splits
    from nn.network import Network, one_hot
    from nn.options import RUNGS

    train_set, _, _ = seed_splits(load_packaged(), train_size)
    data = {dtype: (train_set.X.astype(dtype), one_hot(train_set.y, 10, dtype)) for dtype in dtypes}
    flops = product_flops(LAYERS, train_size)
    torch = "torch" in peers and torch_installed()
    rows = []
    for threads in sorted({1, provenance.usable_cores()}):
        numexpr.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            dgemm = time_dgemm(dgemm_size, DGEMM_REPEATS, threads)
            candidates = []
            for rung in rungs:
                for dtype, (X, Y) in data.items():
                    network = Network(list(LAYERS), LMBDA, RUNGS[rung], seed=0, dtype=np.dtype(dtype).type)
                    candidates.append(({"rung": rung, "dtype": dtype, "network": network},
                                       lambda n=network, X=X, Y=Y: n.cost_and_gradient(n.theta, X, Y)))
            if torch:
                import torch as pytorch

                pytorch.set_num_threads(threads)
                start = Network(list(LAYERS), LMBDA, seed=0)
                X, Y = train_set.X, one_hot(train_set.y, 10)
                for dtype in dtypes:  # the peer in the precisions asked of the rungs, no other
                    peer = TorchNetwork(start, X, Y, dtype)
                    candidates.append(({"peer": f"PyTorch {dtype}", "dtype": dtype}, peer.cost_and_gradient))
            for what, evaluate in candidates:
                spread = timed(evaluate, repeats)
                gflops = flops / spread["median"] / 1e9
                if network := what.pop("network", None):  # after the run: rung 6 knows its workers and chunks
                    what["data_parallel"] = network.describe().get("data_parallel")
                rows.append({**what, "threads": threads, "seconds": spread, "gflops": gflops,
                             "dgemm_gflops": dgemm["gflops"], "share_of_dgemm": gflops / dgemm["gflops"]})
                print(f"{bench_label(what):<26} {threads:>2} threads  {spread['median']:.3f} s "
                      f"(IQR {spread['iqr']:.3f})  {gflops:5.1f} GFLOP/s = {100 * gflops / dgemm['gflops']:.0f}% "
                      f"of DGEMM ({dgemm['gflops']:.1f})", flush=True)
    return rows
