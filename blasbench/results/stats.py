"""Summaries and scaling models: medians and spreads, speedup, Karp–Flatt, Amdahl."""

from __future__ import annotations

import statistics

from .change import ALPHA, decide


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
                       "(of the time at the fewer threads) and the test on the repeats, one per process, says so "
                       f"(p < {ALPHA}, the rule for \"changed\"); a step the test cannot decide is taken provisionally")


def recommend(threads: list[int], walls: list[list[float]], gain: float = MARGINAL_GAIN) -> dict:
    """The thread count where adding threads stops paying (``threads``): walking up the measured
    counts, each step taken while it cuts the median time by at least ``gain`` per added thread and
    the rule for "changed" calls the more threads faster by that factor on the repeats' times
    (``walls``: one list per thread count, one time per process). A step whose medians cut that much
    but whose test cannot decide (too few repeats: three a side never reach p < 0.01; or a
    single run, whose noise is unknown) is taken, and listed in ``undecided`` with its p: the advice
    is then the medians', not yet the rule's. On the seed post's own timings (1-10 threads, one
    value each) this gives 4, the post's "use 4 or 5 cores"."""
    chosen, undecided = threads[0], []
    for (p, fewer), (q, more) in zip(zip(threads, walls), zip(threads[1:], walls[1:])):
        cut = gain * (q - p)
        if cut >= 1 or statistics.median(more) / statistics.median(fewer) > 1 - cut:
            break
        found = decide(fewer, more, factor=1 / (1 - cut))
        if found["verdict"] != "faster":
            undecided.append({"from": p, "to": q, "verdict": found["verdict"], "p": found["p"],
                              "repeats": min(len(fewer), len(more))})
        chosen = q
    return {"threads": chosen, "undecided": undecided}
