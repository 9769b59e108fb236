"""Small, dependency-free statistics for period comparison and pattern detection.

- rates: two-proportion z-test (pooled) with a Wald interval for the difference;
- means: Welch's t-test (Student t via the regularised incomplete beta function);
- anything else (medians, p95, ratios): bootstrap — percentile interval, and a p-value from the
  bootstrap standard error (a resampled p-value cannot go below 1/B, too coarse for Holm);
- Fisher's exact test (one-sided) for term over-representation;
- Holm-Bonferroni for families of tests, so twenty metrics times five agents do not "find" noise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class TestResult:
    delta: float  # b - a
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


def normal_sf(z: float) -> float:
    """P(Z > z)."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("quantile of nothing")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def two_proportion_test(x_a: int, n_a: int, x_b: int, n_b: int) -> TestResult:
    p_a, p_b = x_a / n_a, x_b / n_b
    delta = p_b - p_a
    pooled = (x_a + x_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p = 1.0 if se0 == 0 else 2 * normal_sf(abs(delta) / se0)
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    return TestResult(delta, delta - Z95 * se, delta + Z95 * se, min(1.0, p))


def _betacf(a: float, b: float, x: float) -> float:
    # Continued fraction for the incomplete beta function (Numerical Recipes, 6.4).
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1 + aa / c if abs(1 + aa / c) > 1e-300 else 1e-300
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > 1e-300 else 1e-300)
        c = 1 + aa / c if abs(1 + aa / c) > 1e-300 else 1e-300
        delta = d * c
        h *= delta
        if abs(delta - 1) < 3e-14:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(ln)
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_sf2(t: float, df: float) -> float:
    """Two-sided p-value of Student's t."""
    return betainc(df / 2, 0.5, df / (df + t * t))


def t_quantile(p: float, df: float) -> float:
    """Upper quantile of Student's t by bisection (only used for confidence intervals)."""
    lo, hi = 0.0, 1e3
    target = 2 * (1 - p)
    for _ in range(100):
        mid = (lo + hi) / 2
        if t_sf2(mid, df) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def welch_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    ma, mb = mean(a), mean(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    sa, sb = va / len(a), vb / len(b)
    se = math.sqrt(sa + sb)
    delta = mb - ma
    if se == 0:
        return TestResult(delta, delta, delta, 1.0 if delta == 0 else 0.0)
    df = (sa + sb) ** 2 / ((sa**2) / (len(a) - 1) + (sb**2) / (len(b) - 1))
    t = delta / se
    half = t_quantile(0.975, df) * se
    return TestResult(delta, delta - half, delta + half, t_sf2(t, df))


def bootstrap_test(
    a: Sequence[T],
    b: Sequence[T],
    stat: Callable[[Sequence[T]], float | None],
    *,
    resamples: int = 400,
    seed: int = 0,
) -> TestResult | None:
    """Bootstrap the difference ``stat(b) - stat(a)``; None when the statistic is undefined."""
    sa, sb = stat(a), stat(b)
    if sa is None or sb is None:
        return None
    rng = random.Random(seed)
    deltas: list[float] = []
    for _ in range(resamples):
        ra, rb = stat(rng.choices(a, k=len(a))), stat(rng.choices(b, k=len(b)))
        if ra is not None and rb is not None:
            deltas.append(rb - ra)
    delta = sb - sa
    if len(deltas) < resamples // 2:
        return TestResult(delta, None, None, None)
    m = mean(deltas)
    se = math.sqrt(sum((d - m) ** 2 for d in deltas) / (len(deltas) - 1))
    p = (1.0 if delta == 0 else 0.0) if se == 0 else 2 * normal_sf(abs(delta) / se)
    return TestResult(delta, quantile(deltas, 0.025), quantile(deltas, 0.975), p)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None stays None and does not count as a test)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def fisher_greater(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """One-sided Fisher exact test: is the share k_a/n_a greater than k_b/n_b?"""
    total, with_term = n_a + n_b, k_a + k_b

    def log_hyper(k: int) -> float:
        return (
            _log_comb(with_term, k) + _log_comb(total - with_term, n_a - k) - _log_comb(total, n_a)
        )

    top = min(with_term, n_a)
    return min(1.0, sum(math.exp(log_hyper(k)) for k in range(k_a, top + 1)))


def _log_comb(n: int, k: int) -> float:
    if k < 0 or k > n:
        return -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def ratio_test(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
) -> TestResult | None:
    """Difference of two ratio estimators sum(x)/sum(y) (pairs (x, y)), delta-method SE: the
    standard linearisation, accurate for the large samples where bootstrapping gets slow."""

    def est(pairs: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
        n = len(pairs)
        sy = math.fsum(y for _x, y in pairs)
        if n < 2 or sy == 0:
            return None
        r = math.fsum(x for x, _y in pairs) / sy
        var_d = math.fsum((x - r * y) ** 2 for x, y in pairs) / (n - 1)
        return r, var_d / (n * (sy / n) ** 2)

    ea, eb = est(a), est(b)
    if ea is None or eb is None:
        return None
    delta = eb[0] - ea[0]
    se = math.sqrt(ea[1] + eb[1])
    p = (1.0 if delta == 0 else 0.0) if se == 0 else 2 * normal_sf(abs(delta) / se)
    return TestResult(delta, delta - Z95 * se, delta + Z95 * se, p)


def quantile_test(a: Sequence[float], b: Sequence[float], q: float) -> TestResult:
    """Difference of two sample quantiles; each one's SE from its distribution-free
    order-statistic interval (the binomial ranks around n*q), for large samples."""

    def est(values: Sequence[float]) -> tuple[float, float]:
        s = sorted(values)
        n = len(s)
        half = Z95 * math.sqrt(n * q * (1 - q))
        lo = max(0, math.floor(n * q - half) - 1)
        hi = min(n - 1, math.ceil(n * q + half) - 1)
        return quantile(s, q), (s[hi] - s[lo]) / (2 * Z95)

    (qa, sa), (qb, sb) = est(a), est(b)
    delta = qb - qa
    se = math.sqrt(sa * sa + sb * sb)
    p = (1.0 if delta == 0 else 0.0) if se == 0 else 2 * normal_sf(abs(delta) / se)
    return TestResult(delta, delta - Z95 * se, delta + Z95 * se, p)
