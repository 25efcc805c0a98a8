"""A user's function as a workload (``--workload FILE.py:FUNCTION`` or ``module:FUNCTION``),
measured as the network is: one fresh process per point with every thread variable set and
threadpoolctl's view checked, the function timed per call (auto-ranged like ``timeit``), its
return value summarised and compared with the answer at the fewest threads.

The file may define ``setup(**kwargs)``: it runs once per process, untimed, and its return value
is passed to the function as its first argument; ``--workload-args`` are the keyword arguments
of both. The post's network (``nn``, the default) is the other workload: :class:`.sweep.Workload`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import UserError
from ..results.identity import identity

NETWORK = "nn"  # --workload's default: the post's network


@dataclass(frozen=True)
class FunctionWorkload:
    """What one child times: ``function`` of ``source`` (a file's absolute path, or a module name
    imported from ``path``), keyed by the sha256 of its source file."""

    spec: str
    source: str
    function: str
    source_sha256: str
    args: dict
    number: int | None = None  # calls per measurement; None: auto-ranged
    max_seconds: float = 10.0  # a single call longer than this is refused
    path: str = ""  # the directory a module is imported from (none for a file)

    def command(self, rung: str, output: Path, profile: Path | None = None, python: str = sys.executable) -> list[str]:
        command = [python, "-m", "blasbench.measuring.worker", "call", "--workload", json.dumps(asdict(self)),
                   "--json", str(output)]
        return command + (["--profile", str(Path(profile).resolve())] if profile else [])

    def answer_args(self, reference: Path, first: bool) -> tuple[str, ...]:
        """The child's arguments: the first point saves its answer at ``reference``, the others compare theirs with it."""
        return ("--answer" if first else "--reference", str(reference.resolve()))

    def point(self, result: dict, rung: str, threads: int, repeat: int) -> dict:
        """A point: seconds per call (wall, user and system CPU), and the answer's summary."""
        per_call = result["seconds_per_call"]
        return {"rung": rung, "threads": threads, "repeat": repeat, "wall": per_call, "seconds_per_iteration": per_call,
                "user": result["cpu_seconds"]["user"] / result["number"],
                "system": result["cpu_seconds"]["system"] / result["number"],
                "number": result["number"], "process_wall": result["process_seconds"], "phases": {},
                "answer": result["answer"], "load": result["load"],
                "identity": identity(result["environment"])}


def parse_workload(spec: str, args: str | None = None, number: int | None = None,
                   max_seconds: float = 10.0) -> FunctionWorkload:
    """``FILE.py:FUNCTION`` or ``module:FUNCTION``, checked here: a file or module that does not
    exist, or a function it does not define by name, is one line naming the fix."""
    source, sep, function = spec.rpartition(":")
    if not sep or not source or not function.isidentifier():
        raise UserError(f"--workload {spec!r}: write FILE.py:FUNCTION or module:FUNCTION (or {NETWORK}, the post's network).")
    try:
        kwargs = json.loads(args) if args else {}
    except json.JSONDecodeError as e:
        raise UserError(f"--workload-args {args!r} is not JSON ({e.msg}): write e.g. '{{\"n\": 23}}'.") from None
    if not isinstance(kwargs, dict):
        raise UserError(f"--workload-args {args!r} must be a JSON object of keyword arguments, e.g. '{{\"n\": 23}}'.")
    cwd = Path.cwd()
    if source.endswith(".py") or "/" in source:
        path = (cwd / source).resolve()
        if not path.is_file():
            raise UserError(f"--workload {spec}: no file {path}; give the path of a Python file, then :FUNCTION.")
        file, source, where = path, str(path), ""
    else:
        where = str(cwd)
        sys.path.insert(0, str(cwd))
        try:
            found = importlib.util.find_spec(source)
        except ModuleNotFoundError:
            found = None
        finally:
            sys.path.remove(str(cwd))
        if found is None or not found.origin or not Path(found.origin).is_file():
            raise UserError(f"--workload {spec}: no module {source} importable from {cwd}; give a module name or FILE.py.")
        file = Path(found.origin)
    text = file.read_bytes()
    if f"def {function}".encode() not in text:
        raise UserError(f"--workload {spec}: {file} defines no function {function} (`def {function}(...)`).")
    return FunctionWorkload(spec=spec, source=source, function=function, source_sha256=hashlib.sha256(text).hexdigest(),
                            args=kwargs, number=number, max_seconds=max_seconds, path=where)
