"""The thread-scaling sweep and the profiling sweep, both as fresh child processes of
``python -m blasbench.measuring.worker train`` (the workload's ``python -m nn train`` with provenance).

Each scaling point (rung, threads, repeat) runs in a new process with every thread variable
set together, so the limit takes effect before any library starts its pool; the child records
threadpoolctl's view and a point whose limit did not take effect is refused. Every point records
what measured it (its identity: BLAS, wheels, commit, host, CPU) and the CPU other processes
took meanwhile. Every finished point is written to the results file at once; a rerun with the
same settings on the same identity skips it, and results of another identity are moved aside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from nn.options import ITERATIONS, LAYERS, LMBDA, TRAIN_SIZE

from .. import UserError, last_line, provenance
from ..facts import PEERS, SERIAL_LAYERS, THREAD_VARIABLES
from ..results.identity import identity
from ..results.kinds import read_result, write_result
from ..store import digest, read_json
from .workload import FunctionWorkload

PEER_START = "5-fused-buffers"  # a peer computes its own cost and gradient: the rung only sets the start


@dataclass(frozen=True)
class Workload:
    """What one child trains: the seed's defaults."""

    iterations: int = ITERATIONS
    train_size: int = TRAIN_SIZE
    layers: str = ",".join(map(str, LAYERS))
    lmbda: float = LMBDA
    seed: int = 0
    data_dir: str | None = None

    def command(self, rung: str, output: Path, profile: Path | None = None, python: str = sys.executable) -> list[str]:
        """The child's command line; a peer's name (``torch``) in place of a rung trains with that peer."""
        peer = ["--peer", rung] if rung in PEERS else []
        command = [python, "-m", "blasbench.measuring.worker", "train", *peer, "--quiet", "--rung",
                   PEER_START if peer else rung, "--cv-every", "0",
                   "--layers", self.layers, "--lmbda", str(self.lmbda), "--iterations", str(self.iterations),
                   "--train-size", str(self.train_size), "--seed", str(self.seed), "--json", str(output)]
        if self.data_dir:  # absolute: the child starts elsewhere (run_fresh)
            command += ["--data-dir", str(Path(self.data_dir).resolve())]
        if profile:
            command += ["--profile", str(Path(profile).resolve())]
        return command

    def answer_args(self, reference: Path, first: bool) -> tuple[str, ...]:
        """None: a training's answer is its accuracy, recorded with each point."""
        return ()

    def point(self, result: dict, rung: str, threads: int, repeat: int) -> dict:
        """A point: the training's wall and CPU time, per iteration and per phase, and its accuracy."""
        return {
            "rung": rung, "threads": threads, "repeat": repeat,
            "wall": result["seconds_total"], "user": result["cpu_seconds"]["user"],
            "system": result["cpu_seconds"]["system"], "process_wall": result["process_seconds"],
            "seconds_per_iteration": result["seconds_per_iteration"], "evaluations": result["evaluations"],
            "phases": result["phase_seconds"], "cv_accuracy": result["final"]["cv_accuracy"],
            "load": result["load"], "identity": identity(result["environment"]),
        }


@dataclass(frozen=True)
class ScalingSettings:
    rungs: tuple[str, ...]  # a function workload's one "rung" is the function's name
    threads: tuple[int, ...]
    repeats: int
    workload: Workload | FunctionWorkload = field(default_factory=Workload)
    warmup: bool = True  # a training run before a rung's points (a function warms up in each point)


def thread_env(threads: int | None, extra: dict | None = None) -> dict:
    """This process's environment with every thread variable set to ``threads`` (None: left
    as it is), plus ``extra`` variables."""
    env = dict(os.environ)
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    return {**env, **(extra or {})}


def run_fresh(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``command`` (a ``python -m ...``) in a fresh process started in an empty directory: ``-m`` puts
    the current directory first on ``sys.path``, and a clone's sources there would be imported instead
    of the package installed in that python's environment. The commit this process measures is
    handed on (the child, outside the clone, cannot find it), and so is this code where this very
    python runs it without its being installed (a clone's ``python -m blasbench``): the child imports
    what its parent runs."""
    env = kwargs["env"] = provenance.child_environment(kwargs.get("env"))
    if command[0] == sys.executable and (root := provenance.uninstalled_root()):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    kwargs.setdefault("stdout", subprocess.PIPE)
    with tempfile.TemporaryDirectory(prefix="blasbench-child-") as empty:
        return subprocess.run(command, cwd=empty, stderr=subprocess.PIPE, text=True, **kwargs)


def run_child(workload: Workload | FunctionWorkload, rung: str, threads: int | None, profile: Path | None = None,
              python: str = sys.executable, extra_env: dict | None = None, extra_args: tuple[str, ...] = ()) -> dict:
    """One run of the workload in a fresh process of ``python``; returns its JSON result, with the
    process's own wall time and the load around it."""
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "stdout", "w") as printed:
        output = Path(tmp) / "result.json"
        with provenance.load_around(provenance.children_cpu_seconds) as load:
            started = time.perf_counter()
            # what the code prints goes to a file, as a terminal would take it, not into this process's memory
            run = run_fresh([*workload.command(rung, output, profile, python), *extra_args],
                            env=thread_env(threads, extra_env), stdout=printed)
            wall = time.perf_counter() - started
        if run.returncode != 0 or not output.exists():
            raise UserError(f"{rung} at {threads} thread(s) failed: {child_failure(run)}")
        result = read_json(output)
    result["process_seconds"] = wall
    result["load"] = load
    return result


def child_failure(run: subprocess.CompletedProcess) -> str:
    """Why a child left no result, in one line: the signal that killed it, the exit that ended it
    early, or its own last words."""
    said = last_line(run.stderr).removeprefix("error: ") if (run.stderr or "").strip() else ""
    if run.returncode < 0:
        name = signal.Signals(-run.returncode).name
        crashed = name in ("SIGSEGV", "SIGBUS", "SIGILL")
        crash = " (a crash in compiled code: a C extension, or the BLAS itself)" if crashed else ""
        return f"the process was killed by {name}{crash}" + (f"; its last words: {said}" if said else "")
    if run.returncode == 0 or not said:
        return (f"the process exited (code {run.returncode}) without a result: the function, or a library it calls, "
                "ended it (os._exit, sys.exit) before it could report")
    return said


def limit_problem(result: dict, threads: int) -> str | None:
    """Why a point's thread limit did not take effect, or None when it did."""
    env = result["environment"]
    for lib in env["threadpool_info"]:
        serial_by_design = lib.get("threading_layer") in SERIAL_LAYERS and lib["num_threads"] == 1
        if lib["num_threads"] != threads and not serial_by_design:
            return f"{lib['internal_api']} ran {lib['num_threads']} threads, not {threads} ({lib['filepath']})"
    if env.get("numexpr_threads") not in (None, threads):
        return f"numexpr ran {env['numexpr_threads']} threads, not {threads}"
    return None


def current_identity(python: str = sys.executable, extra_env: dict | None = None) -> dict:
    """The identity of what ``python``'s environment (with ``extra_env``) would measure, read in a fresh child."""
    run = run_fresh([python, "-m", "blasbench.measuring.worker", "provenance"], env=thread_env(None, extra_env))
    if run.returncode != 0:
        last = last_line(run.stderr)
        raise UserError(f"{python} could not report its NumPy and BLAS ({last}): is numpy installed there?")
    return identity(json.loads(run.stdout))


def resume(path: Path, kind: str, wanted: dict) -> dict | None:
    """The results in ``path`` if every field of ``wanted`` (settings, identity) matches; results
    measured otherwise are moved aside (never overwritten), with one line saying why, and None
    is returned."""
    if not path.exists():
        return None
    wanted = json.loads(json.dumps(wanted))  # as it reads back: tuples are lists
    previous = read_result(path, kind)
    differing = [name for name, value in wanted.items() if previous.get(name) != value]
    if not differing:
        return previous
    aside = path.with_name(f"{path.stem}-{digest([previous.get(name) for name in wanted])[:8]}{path.suffix}")
    os.replace(path, aside)
    print(f"{path} was measured with other {' and '.join(differing)}: moved to {aside.name}; measuring afresh.",
          file=sys.stderr)
    return None


def in_turn(keys: list[Hashable], start: Callable[[Hashable], Iterator], turns: int,
            before: Callable[[int, Hashable], None] = lambda turn, key: None) -> Iterator[tuple[Hashable, object]]:
    """Several measures a round at a time (a sweep's repeat), a round of each in turn: the first of
    every one, then the second of every one, ..., as a map takes its thread counts, so that a machine
    that drifts over the minutes they take shifts them all alike instead of reading as a difference
    between two. Each is started (``start(key)``: an iterator of its results, one after each round)
    when its first turn comes, after the results before it were taken (what it measures may follow
    from them), and leaves the turns when it ends; ``before(turn, key)`` runs before each of its
    ``turns`` rounds. Yields each result with its key. No measure is asked for more than ``turns``
    results: what one writes at its end it writes before giving its last result."""
    running: dict = dict.fromkeys(keys)
    for turn in range(turns):
        for key in [key for key in keys if key in running]:
            before(turn, key)
            if running[key] is None:
                running[key] = start(key)
            if (result := next(running[key], None)) is None:
                del running[key]
            else:
                yield key, result


def run_scaling(settings: ScalingSettings, path: Path, python: str = sys.executable, extra_env: dict | None = None) -> dict:
    """Measure every missing point of ``settings`` with ``python``'s environment (and ``extra_env``:
    variables every process gets) and keep ``path`` up to date after each."""
    *_, results = sweep_repeats(settings, path, python, extra_env)
    return results


def sweep_repeats(settings: ScalingSettings, path: Path, python: str = sys.executable,
                  extra_env: dict | None = None) -> Iterator[dict]:
    """:func:`run_scaling` a repeat at a time: the results after each repeat (a release axis takes a
    repeat of each release in turn)."""
    wanted = {"settings": asdict(settings), "identity": current_identity(python, extra_env)}
    results = resume(path, "scaling", wanted) or {"kind": "scaling", **wanted, "points": [], "refused": [],
                                                    "environment": None}
    results["refused"] = []  # refused points are tried again
    done = {(p["rung"], p["threads"], p["repeat"]) for p in results["points"]}
    # Repeats outermost: a machine that drifts over minutes shifts every thread count alike, not one
    todo = [(rung, t, r) for r in range(settings.repeats) for rung in settings.rungs for t in settings.threads
            if (rung, t, r) not in done]
    if not todo:
        print(f"all {len(done)} points of this sweep are already measured in {path}")
    warmed = set()
    # A function's answer at the fewest threads (repeat 0, measured first) is the one the others are compared with.
    reference = path.with_name(f"{path.stem}-answer.npz")
    path.parent.mkdir(parents=True, exist_ok=True)  # the child saves that answer before the first result is written
    for repeat in range(settings.repeats):
        if not (points := [point for point in todo if point[2] == repeat]):
            yield results
            continue
        with tqdm(total=len(points), desc=f"scaling sweep, repeat {repeat + 1} of {settings.repeats}", unit="point",
                  dynamic_ncols=True) as bar:
            for rung, threads, _ in points:
                bar.set_postfix(rung=rung, threads=threads)
                if settings.warmup and rung not in warmed:
                    run_child(Workload(**{**asdict(settings.workload), "iterations": 2}), rung, max(settings.threads),
                              python=python, extra_env=extra_env)
                    warmed.add(rung)
                answer = settings.workload.answer_args(reference, (threads, repeat) == (min(settings.threads), 0))
                result = run_child(settings.workload, rung, threads, python=python, extra_env=extra_env, extra_args=answer)
                if results["environment"] is None:
                    results["environment"] = result["environment"]
                if problem := limit_problem(result, threads):
                    results["refused"].append({"rung": rung, "threads": threads, "repeat": repeat, "why": problem})
                    tqdm.write(f"refused ({rung}, {threads} threads): {problem}")
                else:
                    results["points"].append(settings.workload.point(result, rung, threads, repeat))
                write_result(path, results)
                bar.update()
        yield results
