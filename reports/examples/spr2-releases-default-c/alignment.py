"""`a @ v` at size n (default 256) on one thread, its matrix and vector placed at byte offsets from a page
start: the best of five timings of 2,000 calls, in microseconds; first as NumPy placed them ("default", with
their offsets within a page). Run: OPENBLAS_NUM_THREADS=1 python alignment.py [n]"""

import sys
import time

import numpy as np

PAGE = 4096


def placed(x: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``x`` starting ``offset`` bytes past a page start."""
    buffer = np.empty(x.nbytes + 2 * PAGE, np.uint8)
    start = -buffer.ctypes.data % PAGE + offset
    y = buffer[start:start + x.nbytes].view(x.dtype).reshape(x.shape)
    y[...] = x
    return y


def best(a: np.ndarray, v: np.ndarray) -> float:
    for _ in range(2000):  # warm-up
        a @ v
    times = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(2000):
            a @ v
        times.append((time.perf_counter() - started) / 2000)
    return min(times) * 1e6


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((n, n)), rng.standard_normal(n)
    print("default", a.ctypes.data % PAGE, v.ctypes.data % PAGE, round(best(a, v), 2))
    for a_offset in (0, 16, 64, 1024, 2048):
        row = [round(best(placed(a, a_offset), placed(v, v_offset)), 2) for v_offset in (0, 16, 64, 512, 1024, 2048, 3072)]
        print("a off", a_offset, "v offs 0,16,64,512,1024,2048,3072:", row)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)
