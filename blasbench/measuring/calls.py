"""The NumPy and SciPy calls the threading map times, by name (one registry: the command line's
choices, the child's work and the report's rows all come from here). Each call knows the operands
it needs for a size ``n`` and how many bytes they take; the operands are made in the child, so
importing this module loads no NumPy.

The calls are the ones users bring to NumPy's, SciPy's and OpenBLAS's trackers when threads made
their code slower: small products and solves (OpenBLAS #4387, NumPy #29884), many small
factorisations (OpenBLAS #731), matmul past a size (NumPy #22928), inverses (NumPy #27174).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The columns of the tall-skinny product: a block of vectors, as a Krylov or least-squares step has.
SKINNY = 8
# Where every operand starts: on a cache line (bytes; x86-64's and most AArch64's).
LINE = 64


class Memory:
    """Where a process makes its cells' operands, reused from one cell to the next: a map's process
    makes hundreds, up to 4,096 x 4,096, and memory fresh from the system is first touched when they
    are written. On the 2-core Xeon of docs/measuring.md that first touch sometimes took seconds (two
    fresh 4,096 x 4,096 arrays of normals: 0.35 s, but 1 to 4 s in 3 of 12 tries; written into the same
    memory again: 0.31 to 0.39 s every time), and making the operands took 17 of a default map's 36 s
    process at one thread. Each slot is an array on a cache line, grown when a cell needs more; the
    timed calls still allocate their results as a user's code does."""

    SLOTS = 2  # the most one cell takes: a @ b's two matrices, or a matrix and its Gram matrix

    def __init__(self):
        self.slots: list = []

    def matrix(self, slot: int, n: int):
        """An n-by-n float64 array in ``slot`` (its contents are the last cell's)."""
        import numpy as np

        self.slots += [None] * (slot + 1 - len(self.slots))
        if self.slots[slot] is None or self.slots[slot].size < n * n:
            self.slots[slot] = None  # the old one freed first
            self.slots[slot] = aligned(np.empty(n * n))
        return self.slots[slot][:n * n].reshape(n, n)


@dataclass(frozen=True)
class Call:
    """``setup(n, dtype, rng, memory)`` returns the operands, ``run(*operands)`` is what is timed;
    ``matrices`` is how many n-by-n arrays setup and run hold at once (for the memory estimate);
    ``package`` is the one whose build the call goes through (a NumPy-only build maps NumPy's calls
    alone)."""

    name: str
    setup: Callable
    run: Callable
    matrices: int
    package: str = "numpy"

    def operands(self, n: int, dtype: str, rng, memory: Memory | None = None) -> list:
        """The operands at size ``n``, each starting on a cache line (:func:`aligned`), the matrices
        in ``memory`` where the dtype is float64 (the last cell's operands overwritten)."""
        return [aligned(operand) for operand in self.setup(n, dtype, rng, memory or Memory())]


def aligned(array):
    """``array``, or a copy of it, starting on a cache line (``LINE``). NumPy aligns its arrays to 16
    bytes only, and where an operand starts within a cache line moves memory-bound calls by up to
    1.4x (``a @ v`` n = 256 on one thread: about 4.9 us with the matrix on a cache line, 7.0 us 16
    bytes past one, on the 2-core Xeon of docs/measuring.md); where it lands depends on what the process
    allocated and freed before, the same in every process of one map, so that it would read as a
    change between two maps (two releases, two runs) where only the allocations before it differ."""
    import numpy as np

    if array.ctypes.data % LINE == 0:
        return array
    buffer = np.empty(array.nbytes + LINE, dtype=np.uint8)
    start = -buffer.ctypes.data % LINE
    placed = buffer[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    placed[...] = array
    return placed


def _square(n, dtype, rng, memory, count=1):
    """``count`` n-by-n matrices of standard normals, in ``memory``'s first slots where float64."""
    import numpy as np

    if np.dtype(dtype) == np.float64:
        return [rng.standard_normal(out=memory.matrix(slot, n)) for slot in range(count)]
    arrays = [rng.standard_normal((n, n)) for _ in range(count)]
    if np.dtype(dtype).kind == "c":
        arrays = [a + 1j * rng.standard_normal((n, n)) for a in arrays]
    return [a.astype(dtype) for a in arrays]


def _plus_identity(a, times):
    """``a + times * I``, in ``a``."""
    a.flat[::a.shape[0] + 1] += times
    return a


def _well_conditioned(n, dtype, rng, memory):
    """A matrix whose solve, inverse and factorisations are stable at every size: diagonally dominant."""
    [a] = _square(n, dtype, rng, memory)
    return _plus_identity(a, n)


def _hermitian_positive(n, dtype, rng, memory):
    import numpy as np

    [a] = _square(n, dtype, rng, memory)
    gram = np.matmul(a, a.conj().T, out=memory.matrix(1, n) if a.dtype == np.float64 else None)
    gram /= n
    return _plus_identity(gram, 1)


def _vector(n, dtype, rng):
    return rng.standard_normal(n).astype(dtype)


def _tall_skinny(n, dtype, rng, memory):
    a, b = _square(n, dtype, rng, memory, 2)
    return [a, b[:, :SKINNY].copy()]


def _np(name):
    def run(*operands):
        import numpy as np

        return getattr(np.linalg, name)(*operands)
    return run


def _lu_factor(a):
    import scipy.linalg

    return scipy.linalg.lu_factor(a, check_finite=False)


def _matmul(a, b):
    return a @ b


def _gram(a):
    return a @ a.T


CALLS: dict[str, Call] = {call.name: call for call in (
    Call("a @ b", lambda n, d, r, m: _square(n, d, r, m, 2), _matmul, 3),
    Call("a @ b tall-skinny", _tall_skinny, _matmul, 3),
    Call("a @ v", lambda n, d, r, m: [*_square(n, d, r, m), _vector(n, d, r)], _matmul, 1),
    Call("a @ a.T", lambda n, d, r, m: _square(n, d, r, m), _gram, 2),
    Call("solve", lambda n, d, r, m: [_well_conditioned(n, d, r, m), _vector(n, d, r)], _np("solve"), 2),
    Call("inv", lambda n, d, r, m: [_well_conditioned(n, d, r, m)], _np("inv"), 2),
    Call("cholesky", lambda n, d, r, m: [_hermitian_positive(n, d, r, m)], _np("cholesky"), 2),
    Call("svd", lambda n, d, r, m: [_well_conditioned(n, d, r, m)], _np("svd"), 4),
    Call("eigh", lambda n, d, r, m: [_hermitian_positive(n, d, r, m)], _np("eigh"), 3),
    Call("lu_factor", lambda n, d, r, m: [_well_conditioned(n, d, r, m)], _lu_factor, 2, "scipy"),
)}


def calls_of(package: str) -> list[str]:
    """The calls that go through ``package`` (NumPy's: what a NumPy-only build can map)."""
    return [name for name, call in CALLS.items() if call.package == package]


DTYPES = ("float64", "float32", "complex128", "complex64")
ITEMSIZE = {"float64": 8, "float32": 4, "complex128": 16, "complex64": 8}


def bytes_needed(call: str, n: int, dtype: str, mapped_dtypes) -> int:
    """The memory the call's operands and result take at size ``n``, and the float64 matrices of
    :class:`Memory` a process keeps from its cells before where the map has float64 cells
    (``mapped_dtypes``): what refuses too large a size."""
    kept = Memory.SLOTS * n * n * ITEMSIZE["float64"] if "float64" in mapped_dtypes else 0
    return CALLS[call].matrices * n * n * ITEMSIZE[dtype] + kept
