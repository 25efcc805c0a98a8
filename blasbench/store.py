"""Where things live outside the clone, how they are written safely, and the locks that keep two
processes from writing one thing (the workload's own file helpers, :mod:`nn.files`, serve the harness too).
The result format lives with the result kinds, :mod:`blasbench.results.kinds`."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from nn.files import atomic_write_bytes, cache_dir, file_sha256  # noqa: F401  (the harness uses them from here)

from . import UserError


def writable_directory(directory: Path, what: str, fix: str) -> Path:
    """``directory``, made where missing and checked to take files, before anything long: a read-only
    filesystem, or a file where the directory should be, is one line (``cannot write {what} ...: {fix}``)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as e:
        raise UserError(f"cannot write {what} {directory} ({e.strerror or e}): {fix}") from None
    return directory


def writable_cache() -> Path:
    """The cache directory, checked before any provider or build writes there."""
    return writable_directory(cache_dir(), "the cache at",
                              "set BLASBENCH_CACHE to a writable directory (builds, downloads and environments go there).")


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


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
def holding(lock_file: Path, what: str, holder: str = "", remove: bool = False) -> Iterator[None]:
    """Hold the ``flock`` of ``lock_file``, whose text says who holds it (``holder`` beside the pid,
    host and time). Taken: wait, saying for whom.
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


RESULTS_LOCK = ".blasbench.lock"


@contextlib.contextmanager
def one_writer(directory: Path, command: str, create: bool = True) -> Iterator[None]:
    """Hold ``directory`` (a results directory) for this run alone: a second run into it waits, saying
    for which run (Ctrl-C stops it). A directory that cannot take the lock file
    (read-only, another user's lock) is a one-line error before anything is measured. Without
    ``create``, a missing directory is left missing, unlocked (a reader says it is missing)."""
    lock_file = Path(directory) / RESULTS_LOCK
    if not create and not Path(directory).is_dir():
        yield
        return
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        with holding(lock_file, f"the other run writing to {directory}", holder=f": {command}", remove=True):
            yield
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
