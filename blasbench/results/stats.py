"""Summaries and scaling models: medians and spreads, speedup, Karp–Flatt, Amdahl."""

from __future__ import annotations

import statistics


def summarize(values: list[float]) -> dict:
    """Median and interquartile range (the spread pyperf and asv report), plus extremes."""
    values = sorted(values)
    if len(values) >= 2:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = median = q3 = values[0]
    return {"n": len(values), "median": median, "q1": q1, "q3": q3, "iqr": q3 - q1,
            "min": values[0], "max": values[-1]}


def karp_flatt(speedup: float, threads: int) -> float | None:
    """The experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p)."""
    if threads <= 1:
        return None
    return (1 / speedup - 1 / threads) / (1 - 1 / threads)


AMDAHL_MIN_THREAD_COUNTS = 3  # two points fit T(p) = a + b/p exactly: no residual, no evidence


def amdahl_fit(threads: list[int], seconds: list[float]) -> dict:
    """Least-squares fit of T(p) = a + b/p with a, b >= 0; serial fraction f = a / (a + b).
    Fewer than three thread counts give no fit: two would fit exactly whatever the truth."""
    xs = [1 / p for p in threads]
    n = len(xs)
    if len(set(xs)) < AMDAHL_MIN_THREAD_COUNTS:
        return {"serial_fraction": None, "t1": None, "rms_residual": None,
                "why_none": f"an Amdahl fit needs at least {AMDAHL_MIN_THREAD_COUNTS} thread counts; "
                            f"{len(set(xs))} measured"}
    mean_x, mean_y = sum(xs) / n, sum(seconds) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    b = max(0.0, sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, seconds)) / sxx)
    a = max(0.0, mean_y - b * mean_x)
    if a == 0.0:  # refit b alone with the intercept pinned at zero
        b = sum(x * y for x, y in zip(xs, seconds)) / sum(x * x for x in xs)
    residual = (sum((a + b * x - y) ** 2 for x, y in zip(xs, seconds)) / n) ** 0.5
    return {"serial_fraction": a / (a + b) if a + b else None, "t1": a + b, "rms_residual": residual, "why_none": None}


def amdahl_limit(serial_fraction: float | None) -> float | None:
    """The speedup no number of threads can exceed: 1/f."""
    return 1 / serial_fraction if serial_fraction else None


MARGINAL_GAIN = 0.10
RECOMMENDATION_RULE = (f"add threads while each added thread cuts the time by at least {MARGINAL_GAIN:.0%} "
                       "(of the time at the fewer threads)")


def recommend(threads: list[int], medians: list[float], gain: float = MARGINAL_GAIN) -> int:
    """The thread count where adding threads stops paying: walking up the measured counts, the
    last one reached while each step cut the time by at least ``gain`` per added thread. On the
    seed post's own timings (1-10 threads) this gives 4, the post's "use 4 or 5 cores"."""
    chosen = threads[0]
    for (p, t), (q, u) in zip(zip(threads, medians), zip(threads[1:], medians[1:])):
        if (t - u) / t < gain * (q - p):
            break
        chosen = q
    return chosen
