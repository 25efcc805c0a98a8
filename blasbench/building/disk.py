"""The disk a build writes to: the free space checked before anything is written, and a disk that
fills up mid-way said in one line naming its directory (nothing half-built is kept: the staging
directories go, a rerun with room continues from the cache)."""

from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path

from .. import UserError

MB = 10 ** 6
# What a build wrote under the cache at its peak, measured on 2026-12-04 (NumPy 2.4.6, SciPy 1.17.1,
# Debian 12, sampled every 2 s): the build tools' environment 167 MB; NumPy's sdist 21 MB, unpacked
# source 98, meson build directory 92, log 78 (its compiler warnings), wheel 8: 297 MB; SciPy's
# sdist 31, source 121, build directory 227, log 1, wheel 25: 404 MB. Each rounded up by a quarter
# for other versions, compilers and the peaks between samples.
NEEDED = {
    "build tools": 210 * MB,
    "numpy": 375 * MB,
    "scipy": 505 * MB,
}


def free_bytes(where: Path) -> int:
    """The bytes free to this user on the disk holding ``where`` (its nearest existing parent)."""
    where = Path(where)
    while not where.exists():
        where = where.parent
    return shutil.disk_usage(where).free


def full_disk(where: Path, what: str, needed: int | None = None) -> str:
    """The one line for a disk too full for ``what``."""
    free = free_bytes(where)
    return (f"the disk holding {where} has {free / MB:,.0f} MB free" + (f", and {what} needs about {needed / MB:,.0f} MB"
                                                                          if needed else f": it filled up during {what}")
            + ": free space there, or set BLASBENCH_CACHE to a directory on a larger disk (nothing half-built is kept; "
            "a rerun continues from what is cached).")


def check_free(where: Path, *what: str) -> None:
    """Refuse, before writing anything, a build (of each of ``what``, together) that would not fit on
    the disk holding ``where``."""
    needed = sum(NEEDED[w] for w in what)
    if free_bytes(where) < needed:
        raise UserError(full_disk(where, " with ".join(what), needed))


@contextmanager
def one_line_when_full(where: Path, what: str):
    """A disk that fills up inside the block (an ``OSError`` ENOSPC, or a tool's output saying so:
    :func:`says_full`) is one line naming ``where``."""
    try:
        yield
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        raise UserError(full_disk(where, what)) from None


def says_full(text: str) -> bool:
    """Whether a tool's output (pip's, a compiler's) says the disk is full."""
    return "No space left on device" in text or "[Errno 28]" in text
