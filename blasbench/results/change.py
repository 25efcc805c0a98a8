"""The one rule that says "slower", "faster" or "no change", wherever a report or a gate says it:
the threading map's cells (threads against one thread), ``compare`` (a run against a baseline),
several setups side by side (the fastest against the next) and ``compare --fail-on``.

The unit of evidence is the **process**: measurements taken inside one process share its state
(where its memory landed, the frequency the core ran at, what ran beside it), so one value per
process (its median) is one sample. Two sets of samples differ when

- their medians differ by the change factor or more (``CHANGE_FACTOR``, 1.10 as asv's), *and*
- an exact two-sided Mann-Whitney U test on the samples gives p below ``ALPHA``,

as ``asv continuous`` decides (its ``is_different``), with the process, not the measurement, as the
unit. Beyond the factor but not beyond the test is **undecided** (more processes decide); fewer than
two processes a side know no noise.

A gate (``compare --fail-on``) asks the rule of every measure two runs share at once, and one false
alarm among hundreds fails the run: it fails only on a measure whose p also passes Holm's step-down
control of the family-wise error over every measure compared (:func:`gate`, at ``FAMILY_ALPHA``), and
says "undecidable" where its processes cannot pass that control at all. The false-alarm rates and
the power of the rule and of the gate on this kind of machine are measured by
``benchmarks/change_rule.py``.
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics

from ..facts import CHANGE_FACTOR

# The test's threshold. With 5 processes a side the smallest two-sided p is 2/252 = 0.0079: only
# samples wholly apart pass.
ALPHA = 0.01

# Up to this many ways to split pooled samples with ties, p is exact (every split counted); above it, the
# normal approximation with the ties' correction. Without ties p is exact at any size (the U distribution).
EXACT_SPLITS = 50_000
# A gate's chance of failing a run in which nothing changed, over all the measures it compares (Holm).
FAMILY_ALPHA = 0.05

VERDICTS = ("slower", "faster", "no change", "undecided", "noise unknown")


def mann_whitney_p(x: list[float], y: list[float]) -> float:
    """Two-sided p of the Mann-Whitney U test of ``x`` against ``y`` (ties take mid-ranks): exact from the
    distribution of U without ties, or by counting every split of the pooled ranks where there are few,
    else the normal approximation."""
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
    if len(ranks) == n + m:  # no ties: U = rank sum - n(n+1)/2, and its distribution is known exactly
        counts = u_counts(n, m)
        extreme = sum(c for u, c in enumerate(counts) if abs(u + n * (n + 1) / 2 - mean) >= observed - 1e-9)
        return extreme / math.comb(n + m, n)
    if math.comb(n + m, n) <= EXACT_SPLITS:
        sums = [sum(split) for split in itertools.combinations(all_ranks, n)]
        return sum(abs(s - mean) >= observed - 1e-9 for s in sums) / len(sums)
    ties = sum(c ** 3 - c for c in (pooled.count(v) for v in set(pooled)))
    variance = n * m / 12 * ((n + m + 1) - ties / ((n + m) * (n + m - 1)))
    return math.erfc(max(observed - 0.5, 0.0) / math.sqrt(2 * variance)) if variance > 0 else 1.0


@functools.cache
def u_counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the orderings of ``n`` and ``m`` distinct values give U = 0, 1, ..., n m (U counts the
    pairs whose first-sample value is the larger): the largest value is of the first sample (U gains m) or not."""
    if n == 0 or m == 0:
        return (1,)
    counts = [0] * (n * m + 1)
    for u, c in enumerate(u_counts(n - 1, m)):
        counts[u + m] += c
    for u, c in enumerate(u_counts(n, m - 1)):
        counts[u] += c
    return tuple(counts)


def smallest_p(n: int, m: int) -> float:
    """The smallest two-sided p the test can give with ``n`` and ``m`` processes: the samples wholly apart."""
    return 2 / math.comb(n + m, n)


def fewest_to_decide(alpha: float) -> int:
    """The fewest processes a side whose samples, wholly apart, give p below ``alpha``."""
    return next(n for n in itertools.count(2) if smallest_p(n, n) < alpha)


# The fewest processes a side that can pass the test (5: 2/252 < ALPHA).
FEWEST_TO_DECIDE = fewest_to_decide(ALPHA)


def decide(base: list[float], other: list[float], factor: float = CHANGE_FACTOR, alpha: float = ALPHA) -> dict:
    """``other`` against ``base``, each one value per process (lower is faster): the ratio of the
    medians, its range from the extremes, the test's p, and the verdict (one of :data:`VERDICTS`)."""
    ratio = statistics.median(other) / statistics.median(base)
    found = {"ratio": ratio, "ratio_range": [min(other) / max(base), max(other) / min(base)], "p": None}
    if len(base) < 2 or len(other) < 2:
        return {**found, "verdict": "noise unknown"}
    found["p"] = p = mann_whitney_p(base, other)
    if not beyond_factor(ratio, factor):
        return {**found, "verdict": "no change"}
    if p >= alpha:
        return {**found, "verdict": "undecided"}
    return {**found, "verdict": "slower" if ratio > 1 else "faster"}


def processes_to_decide(had: int) -> int:
    """The processes a side to ask for where ``had`` left a difference undecided: enough to pass the
    test, and twice as many where that was enough already (a process far off kept it from it)."""
    return max(FEWEST_TO_DECIDE, 2 * had)


def beyond_factor(ratio: float, factor: float = CHANGE_FACTOR) -> bool:
    """Whether a ratio of medians is as far from 1 as the change factor, either way."""
    return ratio >= factor or ratio <= 1 / factor


def beyond_noise(verdict: str) -> bool:
    return verdict in ("slower", "faster")


# gate(..., fail_on) -> the verdicts that fail it
FAIL_ON = {"slower": ("slower",), "faster": ("faster",), "changed": ("slower", "faster")}


def gate(rows: list[dict], fail_on: str, factor: float = CHANGE_FACTOR, family_alpha: float = FAMILY_ALPHA) -> dict:
    """A run's verdict over many measures, each of ``rows`` one measure's :func:`decide` with ``processes``
    (the fewer of its two sides'). A row fails where the rule calls it ``fail_on`` *and* its p passes
    Holm's step-down control at ``family_alpha`` over every row compared (the k-th smallest p against
    family_alpha / (m - k + 1)), so that a run in which nothing changed fails with at most that chance,
    however many measures it compares. The rows beyond the factor the way ``fail_on`` looks that do not
    fail are ``open`` (the rule left them undecided, or their p does not pass the control: the gate's own
    word, not a verdict). ``status``: "fail"; else "undecidable" where no row's processes could pass the
    control's first step even wholly apart, or more than half the rows are open (``processes_needed`` a
    side could decide); else "pass"."""
    m = len(rows)
    survives, threshold = set(), (family_alpha / m if m else 0.0)
    for k, row in enumerate(sorted((row for row in rows if row["p"] is not None), key=lambda row: row["p"])):
        if row["p"] >= family_alpha / (m - k):
            break
        survives.add(id(row))

    def leaning(row: dict) -> bool:
        beyond = row["ratio"] >= factor or row["ratio"] <= 1 / factor
        return beyond and row["verdict"] != "no change" and (fail_on == "changed" or (row["ratio"] > 1) == (fail_on == "slower"))

    candidates = [row for row in rows if leaning(row)]
    failing = [row for row in candidates if row["verdict"] in FAIL_ON[fail_on] and id(row) in survives]
    open_ = [row for row in candidates if not (row["verdict"] in FAIL_ON[fail_on] and id(row) in survives)]
    reachable = any(row["processes"] >= 2 and smallest_p(row["processes"], row["processes"]) < threshold for row in rows)
    status = "fail" if failing else "undecidable" if m and (not reachable or 2 * len(open_) > m) else "pass"
    return {"status": status, "failing": failing, "open": open_, "compared": m, "threshold": threshold,
            "family_alpha": family_alpha,
            "processes_needed": fewest_to_decide(threshold) if m else None}
