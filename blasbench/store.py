"""Where things live outside the clone, and how they are written safely (the workload's own file
helpers, :mod:`nn.files`, serve the harness too)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from nn.files import atomic_write_bytes, cache_dir, file_sha256  # noqa: F401  (the harness uses them from here)

from . import UserError


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


# The version of the result files this package writes (pyperf's _JSON_VERSION, asv's api_version).
# History:
# - 1: no "version" field; a sweep's ladder step was called "variant" ("variants" in its settings).
# - 2: "version"; "rung" for a ladder step everywhere; every measured point and result records
#   the identity of what measured it (BLAS, wheels, commit, host, CPU) and the load around it;
#   the kinds "cluster" (a Slurm job's tasks) and bench rows of peers and dtypes.
# - 3: bench records "dgemm_repeats", how many DGEMM runs its rate is the best of (3 before).
# - 4: the kind "threadmap" (NumPy's and SciPy's calls timed over sizes and thread counts).
# - 5: a build's BLAS is "blas" (it was "openblas", whichever BLAS it was), and the provider's
#   option is its "flavour" (it was "variant", the word now kept for a BLAS setup of compare-variants).
# - 6: a threading map measures each thread count in "rounds" (its runs say which), each cell with
#   its measurements' "values".
RESULT_VERSION = 6
# What every result of a kind has, in every version, under the same name (checked before migrating).
REQUIRED = {
    "build": ("wheels", "verification"), "profile": ("rungs",), "scaling": ("settings", "points"),
    "why": ("experiments",), "bench": ("rows",), "variant": ("variant",), "compare": ("runs", "tables"),
    "cluster": ("job", "command", "tasks"), "threadmap": ("settings", "runs"),
}
RESULT_KINDS = tuple(REQUIRED)


def write_result(path: Path, result: dict) -> None:
    """Write a result (a dict with a ``kind``) with the current schema version, atomically."""
    if result.get("kind") not in RESULT_KINDS:
        raise ValueError(f"not a result kind: {result.get('kind')!r}")
    write_json(path, {**result, "version": RESULT_VERSION})


def read_result(path: Path, kind: str) -> dict:
    """The result of ``kind`` in ``path``, migrated to the current version; a file that is
    missing, unreadable, not JSON, of another kind or of a newer version is a one-line error."""
    path = Path(path)
    fix = "move it away and run the command that writes it again"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: run the command that writes it first.") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise UserError(f"{path} cannot be read ({reason}): check its permissions, or {fix}.") from None
    except json.JSONDecodeError as e:
        what = "is empty" if not path.read_bytes().strip() else f"is not valid JSON (line {e.lineno}: cut short or edited)"
        raise UserError(f"{path} {what}: {fix}.") from None
    if not isinstance(data, dict) or data.get("kind") != kind:
        found = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{path} is not a {kind} result (kind: {found!r}): {fix}.")
    if missing := [key for key in REQUIRED[kind] if key not in data]:
        raise UserError(f"{path} is a {kind} result without {', '.join(missing)}: {fix}.")
    version = data.get("version", 1)
    if not isinstance(version, int) or version > RESULT_VERSION:
        raise UserError(f"{path} has result version {version!r}, newer than this blasbench reads ({RESULT_VERSION}): "
                        "update blasbench (git pull) to read it.")
    try:
        for reached in range(version + 1, RESULT_VERSION + 1):  # asv's update_to_N: readers see the current version only
            data = MIGRATIONS[reached](data)
    except (KeyError, TypeError, AttributeError) as e:  # a field a migration reads is missing or of another type
        raise UserError(f"{path} is a version {version} {kind} result that lacks what it should have ({e!r}): {fix}.") from None
    return data


def _update_to_2(data: dict) -> dict:
    """Version 1 called a ladder step "variant": rename it "rung". Its points have no identity,
    so a sweep never resumes on them (they are moved aside), but they still render. Its bench rows
    were float64 rungs only, with no peers; its verification said ok, not a status."""
    if data["kind"] == "bench":
        data["rows"] = [{"dtype": "float64", **row} for row in data["rows"]]
        data.setdefault("peers", {})
    if data["kind"] == "build" and "status" not in data["verification"]:
        data["verification"]["status"] = "passed" if data["verification"]["ok"] else "failed"
    if data["kind"] == "scaling":
        data["settings"]["rungs"] = data["settings"].pop("variants")
        for entry in data.get("points", []) + data.get("refused", []):
            entry["rung"] = entry.pop("variant")
    if data["kind"] == "compare":  # a run's shown fields were its "identity", now a word of provenance
        for run in data["runs"]:
            run["description"] = run.pop("identity")
    return {**data, "version": 2}


def _update_to_3(data: dict) -> dict:
    """Version 2's bench took the best of 3 DGEMM runs without saying so."""
    return {**data, **({"dgemm_repeats": 3} if data["kind"] == "bench" else {}), "version": 3}


def _update_to_4(data: dict) -> dict:
    """Version 4 added a kind; the others are unchanged."""
    return {**data, "version": 4}


def _update_to_5(data: dict) -> dict:
    """Version 4 called a build's BLAS "openblas" and the provider's option its "variant"."""
    if data["kind"] == "build":
        blas = data.pop("openblas")
        blas["flavour"] = blas.pop("variant")
        data["blas"] = blas
    return {**data, "version": 5}


def _update_to_6(data: dict) -> dict:
    """Version 5's threading map measured each thread count in one process: round 0 of 1."""
    if data["kind"] == "threadmap":
        data["settings"].setdefault("rounds", 1)
        for entry in data["runs"] + data.get("refused", []):
            entry.setdefault("round", 0)
    return {**data, "version": 6}


# version N -> the function that brings a version N-1 result to it
MIGRATIONS = {int(name.rpartition("_")[2]): function for name, function in list(globals().items())
              if name.startswith("_update_to_")}


def digest(data: Any) -> str:
    """A stable sha256 of JSON-able data (dict order does not matter)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@contextlib.contextmanager
def locked(name: str, what: str) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` across processes (the cache's builds); released even if
    killed. While another process holds it, say once what is waited for (``what``), by whom and since when."""
    lock_dir = cache_dir() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with holding(lock_dir / f"{name}.lock", f"another {what}"):
        yield


@contextlib.contextmanager
def holding(lock_file: Path, what: str, wait: bool = True, holder: str = "", remove: bool = False) -> Iterator[None]:
    """Hold the ``flock`` of ``lock_file``, whose text says who holds it (``holder`` beside the pid,
    host and time). Taken: wait, saying for whom, or (``wait=False``) raise :class:`Busy` with that text.
    ``remove``: the file goes on release (a results directory keeps only results); a waiter that then
    holds a removed file's lock opens the path again."""
    said = False
    while True:
        f = open(lock_file, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            other = f.read().strip() or "another process"
            if not wait:
                f.close()
                raise Busy(other) from None
            if not said:
                print(f"waiting for {what} ({other}) ...", file=sys.stderr, flush=True)
                said = True
            fcntl.flock(f, fcntl.LOCK_EX)
        if not remove or (lock_file.exists() and os.stat(lock_file).st_ino == os.fstat(f.fileno()).st_ino):
            break
        f.close()  # the holder removed it while we waited: lock the file now at that path
    with f:
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {platform.node()}, since {time.strftime('%H:%M')}{holder}")
        f.flush()
        try:
            yield
        finally:
            if remove:
                lock_file.unlink(missing_ok=True)
            else:
                f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


class Busy(Exception):
    """A lock is held by another process; the message says by whom."""


RESULTS_LOCK = ".blasbench.lock"


@contextlib.contextmanager
def one_writer(directory: Path, command: str, wait: bool = True, create: bool = True) -> Iterator[None]:
    """Hold ``directory`` (a results directory) for this run alone: a second run into it waits, saying
    for which run, or (``wait=False``) stops in one line. A directory that cannot take the lock file
    (read-only, another user's lock) is a one-line error before anything is measured. Without
    ``create``, a missing directory is left missing, unlocked (a reader says it is missing)."""
    lock_file = Path(directory) / RESULTS_LOCK
    if not create and not Path(directory).is_dir():
        yield
        return
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        with holding(lock_file, f"the other run writing to {directory}", wait, holder=f": {command}", remove=True):
            yield
    except Busy as e:
        raise UserError(f"{directory} is being written by another run ({e}): wait for it, drop --no-wait, "
                        "or pass another --results DIR.") from None
    except PermissionError as e:
        if e.filename not in (str(lock_file), str(directory)):
            raise
        raise UserError(f"cannot lock {directory} for this run ({e.strerror}: {e.filename}): "
                        "pass a --results DIR of your own.") from None
    except OSError as e:
        if e.filename not in (str(lock_file), str(directory)):
            raise
        raise UserError(f"cannot write results to {directory} ({e.strerror}): pass a writable --results DIR.") from None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
