"""Every child the measurements start, in one module (pyperf's ``_worker``): ``python -m
blasbench.measuring.worker COMMAND`` in a fresh process, so that the thread variables take effect before any
library starts its pool.

- ``train ...``: the workload's own command line (``python -m nn train``) with the harness's full
  provenance recorded in its result; ``train --peer torch ...`` trains the same network with
  PyTorch computing its cost and gradient.
- ``dgemm``: the DGEMM rate and the threads threadpoolctl reports (optionally under
  ``threadpool_limits``).
- ``evaluations``: one cost-and-gradient of a rung over hidden sizes and numbers of examples.
- ``threadmap``: NumPy's and SciPy's calls (:mod:`.calls`) timed over sizes at this thread count.
- ``call``: a user's function (:mod:`.workload`) timed per call, its answer summarised.
- ``provenance``: this environment's provenance, from which its identity is read.

The parents (:mod:`.sweep`, :mod:`.why`, :mod:`.variants`) only start these and read their JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from pathlib import Path

from .. import provenance
from ..facts import ANSWER_TOLERANCE, CELL_SECONDS, DGEMM_SIZE
from ..results.stats import summarize
from .peers import trained_network


def _blas_info() -> tuple[int | None, str]:
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries loaded so far)
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    # threadpoolctl knows no reference BLAS: it runs one thread, unthreaded.
    return (blas[0]["num_threads"], blas[0]["threading_layer"]) if blas else (None, "none known to threadpoolctl")


def child_dgemm(size: int, threadpoolctl_limit: int | None) -> dict:
    from ..building.verify import peak_gflops_per_core, time_dgemm

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


# The counts of calls a measurement of a cell may take, as timeit's autorange tries them.
COUNTS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)


def time_call(run, operands, measurements: int, warm_up: float) -> tuple[int, dict]:
    """Seconds per call of ``run(*operands)``: the count of calls per measurement auto-ranged (of
    COUNTS, from the first whose calls would last CELL_SECONDS at the ``warm_up`` call's time, up
    until a measurement lasts CELL_SECONDS), then the median and spread of ``measurements``. The
    warm-up's time spares timing the counts below (from 1 up, a default map's process took 39.7 s
    here at 1 thread, 38.1 s from the warm-up's count; the cells' times alike, 0.996x). A single
    call that already lasts CELL_SECONDS is the first measurement: a large cell's call is not made
    once more only to be thrown away (a map's rounds took 264 s here, against 285 s). Shorter
    calls are measured afresh after the auto-range, as timeit's callers do: a first run of many
    calls, right after the shorter ones, read up to 1.7x slow here."""
    import timeit

    timer = timeit.Timer(lambda: run(*operands))
    first = next((at for at, number in enumerate(COUNTS) if number * warm_up >= CELL_SECONDS), len(COUNTS) - 1)
    number, seconds = 1, 0.0
    for number in COUNTS[first:]:
        if (seconds := timer.timeit(number)) >= CELL_SECONDS:
            break
    kept = [seconds] if number == 1 else []
    values = [s / number for s in [*kept, *timer.repeat(measurements - len(kept), number)]]
    return number, {**summarize(values), "values": values}


def child_threadmap(calls: list[str], dtypes: list[str], sizes: list[int], measurements: int, max_seconds: float,
                    only: dict | None, cells_wanted: set[tuple] | None = None) -> list[dict]:
    """Every (call, dtype, size) cell at this process's thread count. A call's sizes stop growing at
    the first whose single call takes longer than ``max_seconds``; ``only`` (call -> dtype -> largest
    size) limits the cells to those another thread count measured, ``cells_wanted`` to those cells."""
    import numpy as np

    from .calls import CALLS, Memory

    rng, memory = np.random.default_rng(0), Memory()
    cells = []
    for call in calls:
        for dtype in dtypes:
            for n in sizes:
                if only is not None and n > only.get(call, {}).get(dtype, 0):
                    break
                if cells_wanted is not None and (call, dtype, n) not in cells_wanted:
                    continue
                operands = CALLS[call].operands(n, dtype, rng, memory)
                started = time.perf_counter()
                CALLS[call].run(*operands)  # the warm-up: thread start, first touch of the result
                warm_up = time.perf_counter() - started
                if only is None and warm_up > max_seconds:
                    cells.append({"call": call, "dtype": dtype, "n": n, "skipped": f"one call took over {max_seconds:g} s"})
                    break
                number, seconds = time_call(CALLS[call].run, operands, measurements, warm_up)
                cells.append({"call": call, "dtype": dtype, "n": n, "number": number, "seconds": seconds})
    return cells


def load_function(workload: dict):
    """The workload's function and its file's ``setup`` (or None), imported by path or module name."""
    import importlib
    import importlib.util

    source = workload["source"]
    if source.endswith(".py"):
        # imported as `import STEM` would from its directory: under its own module name, so that what it
        # pickles (a helper mapped over a process pool) is found again by that name, and its neighbours import
        # (a file at a git revision, copied into the cache: from the working tree's directory it was in)
        spec = importlib.util.spec_from_file_location(Path(source).stem, source)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, workload.get("path") or str(Path(source).parent))
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, workload["path"])
        module = importlib.import_module(source)
    function = getattr(module, workload["function"], None)
    if not callable(function):
        raise SystemExit(f"error: {workload['spec']}: {source} defines no function {workload['function']}")
    return function, getattr(module, "setup", None)


def summarise_answer(value) -> tuple[dict, list]:
    """The answer's parts (an array, a scalar, or a tuple of them), each its shape, dtype and a hash
    of its bytes; what cannot be summarised is named instead (its timing is still kept)."""
    import hashlib

    import numpy as np

    parts = () if value is None else value if isinstance(value, tuple) else (value,)
    arrays = []
    for part in parts:
        array = np.asarray(part) if isinstance(part, (np.ndarray, np.generic, int, float, complex, bool)) else None
        if array is None or array.dtype == object:  # an object array's bytes are pointers
            return {"unsummarised": type(part).__name__ if array is None else "object array"}, []
        arrays.append(array)  # tobytes() is in C order whatever the layout
    return {"parts": [{"shape": list(a.shape), "dtype": str(a.dtype),
                       "sha256": hashlib.sha256(a.tobytes()).hexdigest()[:16]} for a in arrays]}, arrays


def compare_answer(arrays: list, reference_file: str) -> dict:
    """This answer against the one at the fewest threads: bit-identical, within ANSWER_TOLERANCE of its largest
    magnitude, or how far it differs."""
    import numpy as np

    with np.load(reference_file) as saved:
        reference = [saved[f"part{i}"] for i in range(len(saved.files))]
    if [(a.shape, a.dtype) for a in arrays] != [(r.shape, r.dtype) for r in reference]:
        return {"verdict": "differs", "max_relative_difference": None, "why": "another shape or dtype"}
    if all(a.tobytes() == r.tobytes() for a, r in zip(arrays, reference)):
        return {"verdict": "bit-identical", "max_relative_difference": 0.0}
    worst = max(float(np.max(np.abs(a.astype(np.complex128) - r))) / (float(np.max(np.abs(r))) or 1.0)
                for a, r in zip(arrays, reference) if a.size)
    return {"verdict": f"within {ANSWER_TOLERANCE:g}" if worst <= ANSWER_TOLERANCE else "differs",
            "max_relative_difference": worst}


def child_call(workload: dict, answer_file: str | None, reference_file: str | None, profile: str | None = None) -> dict:
    """Run the file's setup once (untimed), one warm-up call, then ``number`` calls (auto-ranged like
    timeit's when not given) timed together; the answer summarised and compared. With ``profile``,
    the timed calls run under cProfile (a profiling run, not a point) and its .prof is written there
    with the functions that took the most cumulative time."""
    import inspect
    import resource
    import timeit

    import numpy as np

    function, setup = load_function(workload)
    kwargs = workload["args"]
    if setup is not None:
        accepted = inspect.signature(setup).parameters
        takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        state = setup(**{k: v for k, v in kwargs.items() if takes_all or k in accepted})

        def call():
            return function(state, **kwargs)
    else:
        def call():
            return function(**kwargs)
    started = time.perf_counter()
    value = call()  # the warm-up: imports, thread start, first touch
    first = time.perf_counter() - started
    if first > workload["max_seconds"]:
        raise SystemExit(f"error: one call of {workload['spec']} took {first:.1f} s, over --max-seconds "
                         f"{workload['max_seconds']:g}: make it smaller (--workload-args) or raise --max-seconds")
    number = workload["number"] or timeit.Timer(call).autorange()[0]
    profiler = cProfile.Profile() if profile else None
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(number):
        value = call()
    if profiler:
        profiler.disable()
    seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    if seconds / number < 1e-6:
        raise SystemExit(f"error: {workload['spec']} takes under a microsecond per call ({seconds / number * 1e9:.0f} ns): "
                         "threads cannot matter there; time a larger problem (--workload-args)")
    summary, arrays = summarise_answer(value)
    if arrays and answer_file:
        np.savez(answer_file, **{f"part{i}": a for i, a in enumerate(arrays)})
        summary.update(verdict="the reference", max_relative_difference=0.0)
    elif arrays and reference_file and Path(reference_file).exists():
        summary.update(compare_answer(arrays, reference_file))
    result = {"seconds_per_call": seconds / number, "number": number, "first_call_seconds": first,
              "cpu_seconds": {"user": after.ru_utime - before.ru_utime, "system": after.ru_stime - before.ru_stime},
              "answer": summary, "environment": provenance.collect()}
    if profiler:
        Path(profile).parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile)
        result["profile"] = top_functions(profile, seconds)
    return result


def top_functions(prof: str, total: float, count: int = 12) -> list[dict]:
    """The functions with the most cumulative time in a .prof, each as a share of the profiled time."""
    import pstats

    stats = pstats.Stats(prof).stats
    rows = sorted(((cumulative, calls, f"{Path(file).name}:{line}({name})")
                   for (file, line, name), (_, calls, _, cumulative, _) in stats.items()), reverse=True)
    return [{"function": where, "calls": calls, "cumulative_seconds": cumulative, "share": cumulative / total}
            for cumulative, calls, where in rows[:count]]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        from nn.__main__ import main as train_main  # the network needs SciPy; a map of a NumPy-only build does not

        if argv[1:2] == ["--peer"]:
            return train_main([argv[0], *argv[3:]], environment=provenance.collect,
                              network_class=trained_network(argv[2]))
        return train_main(argv, environment=provenance.collect)
    parser = argparse.ArgumentParser(prog="python -m blasbench.measuring.worker", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="the workload's `python -m nn train`, with provenance")
    dgemm = commands.add_parser("dgemm", help="the DGEMM rate and the threads threadpoolctl reports")
    dgemm.add_argument("--size", type=int, default=DGEMM_SIZE)
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
    threadmap.add_argument("--measurements", type=int, required=True)
    threadmap.add_argument("--max-seconds", type=float, required=True)
    threadmap.add_argument("--only", help="JSON: call -> dtype -> the largest size to measure")
    threadmap.add_argument("--cells", help="JSON: the [call, dtype, n] cells to measure, no other")
    call = commands.add_parser("call", help="time a user's function per call and summarise its answer")
    call.add_argument("--workload", required=True, help="JSON: the FunctionWorkload")
    call.add_argument("--json", required=True, help="where the result goes")
    call.add_argument("--answer", help="save the answer here: the reference of the other points")
    call.add_argument("--reference", help="compare the answer with the one saved here")
    call.add_argument("--profile", help="run the timed calls under cProfile and write its .prof here")
    commands.add_parser("provenance", help="this environment's provenance (its identity's source)")
    args = parser.parse_args(argv)
    if args.command == "call":
        result = child_call(json.loads(args.workload), args.answer, args.reference, args.profile)
        Path(args.json).write_text(json.dumps(result))
        return 0
    if args.command == "dgemm":
        result = child_dgemm(args.size, args.threadpoolctl)
    elif args.command == "threadmap":
        from .calls import CALLS

        calls = args.calls.split("|")
        if any(CALLS[call].package == "scipy" for call in calls):
            import scipy.linalg  # noqa: F401  (loaded before the provenance: every BLAS the calls use is seen)
        cells = child_threadmap(calls, args.dtypes.split(","), [int(n) for n in args.sizes.split(",")],
                                args.measurements, args.max_seconds, json.loads(args.only) if args.only else None,
                                {tuple(cell) for cell in json.loads(args.cells)} if args.cells else None)
        result = {"cells": cells, "environment": provenance.collect()}
    elif args.command == "evaluations":
        result = child_evaluations(args.rung, [int(n) for n in args.hidden.split(",")],
                                   [int(n) for n in args.examples.split(",")], args.repeats)
    else:
        import numpy  # noqa: F401  (provenance records the NumPy configuration)
        try:
            import scipy.linalg  # noqa: F401  (and every BLAS a training run loads: PyPI's SciPy brings its own)
        except ModuleNotFoundError:
            pass  # a NumPy-only build (a setup +numpy-only): its identity has no SciPy

        result = provenance.collect()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
