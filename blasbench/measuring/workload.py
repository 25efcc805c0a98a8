"""A user's function as a workload (``--workload FILE.py:FUNCTION`` or ``module:FUNCTION``),
measured as the network is: one fresh process per point with every thread variable set and
threadpoolctl's view checked, the function timed per call (auto-ranged like ``timeit``), its
return value summarised and compared with the answer at the fewest threads.

The file may define ``setup(**kwargs)``: it runs once per process, untimed, and its return value
is passed to the function as its first argument; ``--workload-args`` are the keyword arguments
of both. The post's network (``nn``, the default) is the other workload: :class:`.sweep.Workload`.

``FILE.py:FUNCTION@REV`` is the file as git's commit ``REV`` has it (``HEAD~1``, a branch, a tag), kept
in the cache by its content; its neighbours still import from the working tree. Two versions of one
function, ``f.py:fit@main f.py:fit``, are then measured side by side in one run (:mod:`.workloads`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import UserError
from ..results.identity import identity
from ..store import atomic_write_bytes, writable_cache

NETWORK = "nn"  # --workload's default: the post's network


@dataclass(frozen=True)
class FunctionWorkload:
    """What one child times: ``function`` of ``source`` (a file's absolute path, or a module name
    imported from ``path``), keyed by the sha256 of its source file. A file at a git ``revision`` (the
    commit's hash; "" for the working tree) is a copy in the cache, its neighbours imported from ``path``."""

    spec: str
    source: str
    function: str
    source_sha256: str
    args: dict
    number: int | None = None  # calls per measurement; None: auto-ranged
    max_seconds: float = 10.0  # a single call longer than this is refused
    path: str = ""  # the directory a module (or a file at a revision) imports from; none for a file
    revision: str = ""  # the git commit a file was taken from ("": as it is in the working tree)

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
    """``FILE.py:FUNCTION[@REV]`` or ``module:FUNCTION``, checked here: a file or module that does not
    exist, or a function it does not define by name, is one line naming the fix. ``spec`` keeps no
    revision: two versions of one function are one measure to ``compare``."""
    source, sep, function = spec.rpartition(":")
    function, at, revision = function.partition("@")
    if not sep or not source or not function.isidentifier() or (at and not revision):
        raise UserError(f"--workload {spec!r}: write FILE.py:FUNCTION, FILE.py:FUNCTION@REV (the file at a git "
                        f"commit) or module:FUNCTION (or {NETWORK}, the post's network).")
    try:
        kwargs = json.loads(args) if args else {}
    except json.JSONDecodeError as e:
        raise UserError(f"--workload-args {args!r} is not JSON ({e.msg}): write e.g. '{{\"n\": 23}}'.") from None
    if not isinstance(kwargs, dict):
        raise UserError(f"--workload-args {args!r} must be a JSON object of keyword arguments, e.g. '{{\"n\": 23}}'.")
    cwd = Path.cwd()
    commit = ""
    if source.endswith(".py") or "/" in source:
        path = (cwd / source).resolve()
        if revision:
            commit, text = at_revision(path, revision, spec)
            file, where = cached_copy(path.name, text), str(path.parent)
        elif not path.is_file():
            raise UserError(f"--workload {spec}: no file {path}; give the path of a Python file, then :FUNCTION.")
        else:
            file, where = path, ""
        source = str(file)
    elif revision:
        raise UserError(f"--workload {spec}: @REV takes a file from git: write FILE.py:{function}@{revision}.")
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
    return FunctionWorkload(spec=spec.rpartition("@")[0] if revision else spec, source=source, function=function,
                            source_sha256=hashlib.sha256(text).hexdigest(), args=kwargs, number=number,
                            max_seconds=max_seconds, path=where, revision=commit)


def at_revision(path: Path, revision: str, spec: str) -> tuple[str, bytes]:
    """The commit ``revision`` names in the git repository ``path`` is in, and the file's bytes there;
    a revision, repository or file git does not know is one line."""
    def git(*words: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(["git", "-C", str(path.parent), *words], capture_output=True)
        except FileNotFoundError:
            raise UserError(f"--workload {spec}: @REV asks git for the file, and git is not installed here.") from None

    found = git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if found.returncode:
        inside = git("rev-parse", "--git-dir").returncode == 0
        raise UserError(f"--workload {spec}: " + (f"git knows no commit {revision!r} here (`git log` lists them)."
                                                  if inside else f"{path.parent} is not in a git repository, so @REV "
                                                  "names nothing: copy the old version to a file of its own."))
    commit = found.stdout.decode().strip()
    shown = git("show", f"{commit}:./{path.name}")
    if shown.returncode:
        raise UserError(f"--workload {spec}: commit {commit[:12]} has no file {path.name} in {path.parent}.")
    return commit, shown.stdout


def cached_copy(name: str, text: bytes) -> Path:
    """``text`` as the file ``name`` under the cache, in a folder named by its content: made once."""
    path = writable_cache() / "workloads" / hashlib.sha256(text).hexdigest()[:16] / name
    if not path.exists():
        atomic_write_bytes(path, text)
    return path


def workload_name(workload: FunctionWorkload, revision: str = "") -> str:
    """The folder a workload's sweep is kept in beside others: its file's stem and function, and the
    revision as asked (``solves.solve_many@HEAD~1``), in characters a path takes."""
    stem = Path(workload.source).stem if workload.source.endswith(".py") else workload.source
    return re.sub(r"[^\w.@~^+-]", "-", f"{stem}.{workload.function}" + (f"@{revision}" if revision else ""))
