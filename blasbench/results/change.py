"""The one rule that says "slower", "faster" or "no change", wherever a report or a gate says it:
the threading map's cells (threads against one thread), ``compare`` (a run against a baseline),
``compare-variants`` (a setup against the next fastest) and ``compare --fail-on``.

The unit of evidence is the **process**: measurements taken inside one process share its state
(where its memory landed, the frequency the core ran at, what ran beside it), so one value per
process (its median) is one sample. Two sets of samples differ when

- their medians differ by the change factor or more (``CHANGE_FACTOR``, 1.10 as asv's), *and*
- an exact two-sided Mann-Whitney U test on the samples gives p below ``ALPHA``,

as ``asv continuous`` decides (its ``is_different``), with the process, not the measurement, as the
unit. Beyond the factor but not beyond the test is **undecided** (more processes decide); fewer than
two processes a side know no noise. The false-alarm rate and the power of this rule on this kind of
machine are measured by ``benchmarks/change_rule.py``.
"""

from __future__ import annotations

import itertools
import math
import statistics

from ..facts import CHANGE_FACTOR

# The test's threshold. With 5 processes a side the smallest two-sided p is 2/252 = 0.0079: only
# samples wholly apart pass.
ALPHA = 0.01
# The fewest processes a side whose samples, wholly apart, pass the test (5: 2/252 < ALPHA).
FEWEST_TO_DECIDE = next(n for n in itertools.count(2) if 2 / math.comb(2 * n, n) < ALPHA)
# Up to this many ways to split the pooled samples, p is exact (every split counted); above it, the
# normal approximation with the ties' correction.
EXACT_SPLITS = 50_000

VERDICTS = ("slower", "faster", "no change", "undecided", "noise unknown")


def mann_whitney_p(x: list[float], y: list[float]) -> float:
    """Two-sided p of the Mann-Whitney U test of ``x`` against ``y`` (ties take mid-ranks): exact by
    counting every split of the pooled ranks where there are few, else the normal approximation."""
    pooled = sorted(x + y)
    ranks = {}
    for value, group in itertools.groupby(pooled):
        count = len(list(group))
        first = pooled.index(value) + 1
        ranks[value] = first + (count - 1) / 2
    all_ranks = [ranks[v] for v in x + y]
    n, m = len(x), len(y)
    mean = n * (n + m + 1) / 2  # the expected rank sum of x
    observed = abs(sum(ranks[v] for v in x) - mean)
    if math.comb(n + m, n) <= EXACT_SPLITS:
        sums = [sum(split) for split in itertools.combinations(all_ranks, n)]
        return sum(abs(s - mean) >= observed - 1e-9 for s in sums) / len(sums)
    ties = sum(c ** 3 - c for c in (pooled.count(v) for v in set(pooled)))
    variance = n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1)))
    return math.erfc(max(observed - 0.5, 0.0) / math.sqrt(2 * variance)) if variance > 0 else 1.0


def decide(base: list[float], other: list[float], factor: float = CHANGE_FACTOR, alpha: float = ALPHA) -> dict:
    """``other`` against ``base``, each one value per process (lower is faster): the ratio of the
    medians, its range from the extremes, the test's p, and the verdict (one of :data:`VERDICTS`)."""
    ratio = statistics.median(other) / statistics.median(base)
    found = {"ratio": ratio, "ratio_range": [min(other) / max(base), max(other) / min(base)], "p": None}
    if len(base) < 2 or len(other) < 2:
        return {**found, "verdict": "noise unknown"}
    found["p"] = p = mann_whitney_p(base, other)
    if not (ratio >= factor or ratio <= 1 / factor):
        return {**found, "verdict": "no change"}
    if p >= alpha:
        return {**found, "verdict": "undecided"}
    return {**found, "verdict": "slower" if ratio > 1 else "faster"}


def processes_to_decide(had: int) -> int:
    """The processes a side to ask for where ``had`` left a difference undecided: enough to pass the
    test, and twice as many where that was enough already (a process far off kept it from it)."""
    return max(FEWEST_TO_DECIDE, 2 * had)


def beyond_noise(verdict: str) -> bool:
    return verdict in ("slower", "faster")
