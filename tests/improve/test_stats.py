from __future__ import annotations

import random

import pytest

from observatory.improve.stats import (
    betainc,
    bootstrap_test,
    fisher_greater,
    holm,
    mean,
    quantile,
    t_sf2,
    two_proportion_test,
    welch_test,
)


def test_reference_values() -> None:
    # Closed forms: t with 3 df has an elementary CDF; I_x(2, 3) is a binomial tail; Fisher's
    # tail is a hypergeometric sum; Welch by hand (t = 1.993, df = 7.92).
    assert t_sf2(2.0, 10) == pytest.approx(0.07338803, rel=1e-6)
    assert t_sf2(0.5, 3) == pytest.approx(0.651448, rel=1e-5)
    assert t_sf2(1.959964, 1e7) == pytest.approx(0.05, rel=1e-5)
    assert betainc(2, 3, 0.4) == pytest.approx(0.5248, rel=1e-6)
    assert fisher_greater(8, 10, 2, 10) == pytest.approx(0.01151, rel=1e-3)
    r = two_proportion_test(40, 100, 60, 100)
    assert r.delta == pytest.approx(0.2) and r.p_value == pytest.approx(0.004678, rel=1e-3)
    w = welch_test([1, 2, 3, 4, 5], [3, 4, 5, 6, 7.5])
    assert w.p_value == pytest.approx(0.0817, rel=1e-2)
    assert w.ci_low is not None and w.ci_low < 0 < (w.ci_high or 0)
    assert quantile([1, 2, 3, 4], 0.5) == 2.5 and quantile([5], 0.95) == 5


def test_holm() -> None:
    assert holm([0.01, 0.04, None, 0.03]) == [0.03, 0.06, None, 0.06]


def test_bootstrap_finds_a_shift_and_not_noise() -> None:
    rng = random.Random(1)
    a = [rng.lognormvariate(0, 0.5) for _ in range(60)]
    same = [rng.lognormvariate(0, 0.5) for _ in range(60)]
    doubled = [2 * rng.lognormvariate(0, 0.5) for _ in range(60)]
    shift = bootstrap_test(a, doubled, lambda v: quantile(v, 0.5))
    noise = bootstrap_test(a, same, lambda v: quantile(v, 0.5))
    assert shift and shift.p_value is not None and shift.p_value < 1e-4
    assert noise and noise.p_value is not None and noise.p_value > 0.05
    assert bootstrap_test([], a, lambda v: mean(v) if v else None) is None


def test_analytic_large_sample_tests_agree_with_the_bootstrap() -> None:
    from observatory.improve.stats import quantile_test, ratio_test

    rng = random.Random(5)
    a = [(rng.lognormvariate(0, 0.6), float(rng.random() < 0.7)) for _ in range(600)]
    b = [(1.1 * rng.lognormvariate(0, 0.6), float(rng.random() < 0.7)) for _ in range(600)]

    def ratio(v: list[tuple[float, float]]) -> float | None:
        wins = sum(y for _x, y in v)
        return sum(x for x, _y in v) / wins if wins else None

    for analytic, boot in (
        (ratio_test(a, b), bootstrap_test(a, b, ratio, resamples=300)),
        (
            quantile_test([x for x, _ in a], [x for x, _ in b], 0.5),
            bootstrap_test(
                [x for x, _ in a], [x for x, _ in b], lambda v: quantile(v, 0.5), resamples=300
            ),
        ),
    ):
        assert analytic and boot and analytic.ci_low is not None and boot.ci_low is not None
        assert analytic.delta == pytest.approx(boot.delta)
        width_a = (analytic.ci_high or 0) - analytic.ci_low
        width_b = (boot.ci_high or 0) - boot.ci_low
        assert 0.75 < width_a / width_b < 1.33
