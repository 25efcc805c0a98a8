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


def amdahl_fit(threads: list[int], seconds: list[float]) -> dict:
    """Least-squares fit of T(p) = a + b/p with a, b >= 0; serial fraction f = a / (a + b)."""
    xs = [1 / p for p in threads]
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        return {"serial_fraction": None, "t1": None, "rms_residual": None}
    mean_x, mean_y = sum(xs) / n, sum(seconds) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    b = max(0.0, sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, seconds)) / sxx)
    a = max(0.0, mean_y - b * mean_x)
    if a == 0.0:  # refit b alone with the intercept pinned at zero
        b = sum(x * y for x, y in zip(xs, seconds)) / sum(x * x for x in xs)
    residual = (sum((a + b * x - y) ** 2 for x, y in zip(xs, seconds)) / n) ** 0.5
    return {"serial_fraction": a / (a + b) if a + b else None, "t1": a + b, "rms_residual": residual}


def amdahl_limit(serial_fraction: float | None) -> float | None:
    """The speedup no number of threads can exceed: 1/f."""
    return 1 / serial_fraction if serial_fraction else None


def recommend(threads: list[int], medians: list[float], tolerance: float = 0.10) -> int:
    """The smallest thread count whose time is within ``tolerance`` of the best (the seed's
    "use 4 or 5 cores" rule, made explicit)."""
    best = min(medians)
    return min(p for p, t in zip(threads, medians) if t <= best * (1 + tolerance))
