"""Period comparison: two windows side by side, per agent / kind / model / trigger.

Metrics (each with the direction that counts as better):
- ``success_rate``: share of reviewed targets whose effective review (the latest human review,
  else the latest AI review) says accomplished — two-proportion z-test;
- ``failure_rate``: failed runs / finished runs — two-proportion z-test (``events`` = failures);
- ``cost_per_success``: cost of reviewed sessions / successful ones — bootstrap (the delta
  method from 400 observations per window on);
- ``tokens_per_completed_task``: mean tokens of completed task sessions — Welch's t;
- ``ttc_p50`` / ``ttc_p95``: time to completion of completed task sessions (s) — bootstrap
  (order-statistic intervals from 400 observations on);
  tested only with 5+ observations beyond the quantile in each window (100 for p95);
- ``heartbeat_cost``: mean cost of one heartbeat run — Welch's t.
Significance is Holm-corrected over every test in the comparison, so "significant" means the
change is unlikely to be noise even though many metrics and groups were looked at.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.improve.stats import (
    TestResult,
    bootstrap_test,
    holm,
    mean,
    quantile,
    quantile_test,
    ratio_test,
    two_proportion_test,
    welch_test,
)

DIMENSIONS = ("agent", "kind", "model", "trigger")
MIN_N = 5
LARGE_N = 400  # from here on, analytic intervals replace the (slow) bootstrap


@dataclass(frozen=True)
class MetricDef:
    name: str
    label: str
    unit: str
    higher_is_better: bool
    method: str


METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef("success_rate", "Success rate (reviews)", "ratio", True, "two-proportion z"),
        MetricDef("failure_rate", "Failed runs", "ratio", False, "two-proportion z"),
        MetricDef("cost_per_success", "Cost per successful session", "usd", False, "bootstrap"),
        MetricDef(
            "tokens_per_completed_task", "Tokens per completed task", "tokens", False, "welch t"
        ),
        MetricDef("ttc_p50", "Time to completion p50", "seconds", False, "bootstrap"),
        MetricDef("ttc_p95", "Time to completion p95", "seconds", False, "bootstrap"),
        MetricDef("heartbeat_cost", "Cost per heartbeat", "usd", False, "welch t"),
    )
}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    label: str
    unit: str
    higher_is_better: bool
    method: str
    a: float | None
    b: float | None
    n_a: int
    n_b: int
    events_a: int | None  # numerator of a rate (successes, failures)
    events_b: int | None
    delta: float | None  # b - a
    relative_delta: float | None
    ci_low: float | None  # 95% interval of the delta
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None  # Holm over the whole comparison
    significant: bool
    change: str | None  # "better" | "worse" when significant, else None


@dataclass(frozen=True)
class GroupComparison:
    group: str | None  # the dimension's value (None: everything)
    metrics: list[MetricComparison]


@dataclass(frozen=True)
class PeriodComparison:
    a: Window
    b: Window
    group_by: str | None
    alpha: float
    tests: int
    groups: list[GroupComparison]

    def significant(self) -> list[tuple[str | None, MetricComparison]]:
        return [(g.group, m) for g in self.groups for m in g.metrics if m.significant]


_FILTER = "(CAST(:agent AS text) IS NULL OR {col} = :agent)"

_REVIEWED_SESSIONS = f"""
SELECT s.agent_id AS agent, s.kind::text AS kind, coalesce(s.model, 'unknown') AS model,
       coalesce(fr.trigger::text, 'unknown') AS trigger, s.total_cost AS cost,
       e.verdict = 'accomplished' AS success
FROM sessions s
JOIN LATERAL (SELECT verdict FROM reviews v WHERE v.session_id = s.id AND v.run_id IS NULL
              ORDER BY (v.reviewer_kind = 'human') DESC, v.created_at DESC, v.id DESC LIMIT 1
             ) e ON true
LEFT JOIN LATERAL (SELECT trigger FROM runs r WHERE r.session_id = s.id
                   ORDER BY r.started_at, r.id LIMIT 1) fr ON true
WHERE s.ended_at >= :start AND s.ended_at < :end AND {_FILTER.format(col="s.agent_id")}
"""

_REVIEWED_RUNS = f"""
SELECT DISTINCT ON (v.run_id) r.agent_id AS agent, s.kind::text AS kind,
       coalesce(r.model, s.model, 'unknown') AS model, r.trigger::text AS trigger,
       v.verdict = 'accomplished' AS success
FROM reviews v JOIN runs r ON r.id = v.run_id JOIN sessions s ON s.id = r.session_id
WHERE r.started_at >= :start AND r.started_at < :end AND {_FILTER.format(col="r.agent_id")}
ORDER BY v.run_id, (v.reviewer_kind = 'human') DESC, v.created_at DESC, v.id DESC
"""

_RUN_COUNTS = f"""
SELECT r.agent_id AS agent, s.kind::text AS kind, coalesce(r.model, s.model, 'unknown') AS model,
       r.trigger::text AS trigger, count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) AS finished
FROM runs r JOIN sessions s ON s.id = r.session_id
WHERE r.started_at >= :start AND r.started_at < :end AND r.status <> 'running'
  AND {_FILTER.format(col="r.agent_id")}
GROUP BY 1, 2, 3, 4
"""

_COMPLETED_TASKS = f"""
SELECT s.agent_id AS agent, s.kind::text AS kind, coalesce(s.model, 'unknown') AS model,
       coalesce(fr.trigger::text, 'unknown') AS trigger, s.total_tokens AS tokens,
       extract(epoch FROM s.ended_at - s.started_at)::float8 AS ttc
FROM sessions s
LEFT JOIN LATERAL (SELECT trigger FROM runs r WHERE r.session_id = s.id
                   ORDER BY r.started_at, r.id LIMIT 1) fr ON true
WHERE s.kind = 'task' AND s.status = 'completed' AND s.ended_at >= :start AND s.ended_at < :end
  AND {_FILTER.format(col="s.agent_id")}
"""

_HEARTBEATS = f"""
SELECT r.agent_id AS agent, s.kind::text AS kind, coalesce(r.model, s.model, 'unknown') AS model,
       r.trigger::text AS trigger, r.cost::float8 AS cost
FROM runs r JOIN sessions s ON s.id = r.session_id
WHERE r.trigger = 'heartbeat' AND r.cost IS NOT NULL
  AND r.started_at >= :start AND r.started_at < :end AND {_FILTER.format(col="r.agent_id")}
"""

Obs = dict[str, Any]


async def _window_data(db: AsyncSession, w: Window, agent_id: str | None) -> dict[str, list[Obs]]:
    params = {"start": w.start, "end": w.end, "agent": agent_id}
    out: dict[str, list[Obs]] = {}
    for key, sql in (
        ("reviewed_sessions", _REVIEWED_SESSIONS),
        ("reviewed_runs", _REVIEWED_RUNS),
        ("run_counts", _RUN_COUNTS),
        ("completed_tasks", _COMPLETED_TASKS),
        ("heartbeats", _HEARTBEATS),
    ):
        out[key] = [dict(r._mapping) for r in await db.execute(text(sql), params)]
    return out


def _group(rows: list[Obs], dim: str | None) -> dict[str | None, list[Obs]]:
    groups: dict[str | None, list[Obs]] = defaultdict(list)
    for row in rows:
        groups[None if dim is None else str(row[dim])].append(row)
    return groups


def _ratio(pairs: Sequence[tuple[float, bool]]) -> float | None:
    wins = sum(1 for _c, ok in pairs if ok)
    return sum(c for c, _ok in pairs) / wins if wins else None


@dataclass
class _Raw:
    a: float | None
    b: float | None
    n_a: int
    n_b: int
    events_a: int | None
    events_b: int | None
    test: TestResult | None


def _metric(
    name: str, da: dict[str, list[Obs]], db_: dict[str, list[Obs]], seed: int, resamples: int
) -> _Raw:
    if name in ("success_rate", "failure_rate"):

        def counts(d: dict[str, list[Obs]]) -> tuple[int, int]:
            if name == "success_rate":
                rows = d["reviewed_sessions"] + d["reviewed_runs"]
                return sum(1 for r in rows if r["success"]), len(rows)
            return sum(r["failed"] for r in d["run_counts"]), sum(
                r["finished"] for r in d["run_counts"]
            )

        (xa, na), (xb, nb) = counts(da), counts(db_)
        test = two_proportion_test(xa, na, xb, nb) if na >= MIN_N and nb >= MIN_N else None
        return _Raw(xa / na if na else None, xb / nb if nb else None, na, nb, xa, xb, test)
    if name == "cost_per_success":
        pa = [
            (float(r["cost"]), bool(r["success"]))
            for r in da["reviewed_sessions"]
            if r["cost"] is not None
        ]
        pb = [
            (float(r["cost"]), bool(r["success"]))
            for r in db_["reviewed_sessions"]
            if r["cost"] is not None
        ]
        test = None
        if min(len(pa), len(pb)) >= LARGE_N:
            test = ratio_test(pa, pb)
        elif min(len(pa), len(pb)) >= MIN_N:
            test = bootstrap_test(pa, pb, _ratio, resamples=resamples, seed=seed)
        return _Raw(_ratio(pa), _ratio(pb), len(pa), len(pb), None, None, test)
    specs: dict[str, tuple[str, str, str | float]] = {
        "tokens_per_completed_task": ("completed_tasks", "tokens", "mean"),
        "ttc_p50": ("completed_tasks", "ttc", 0.5),
        "ttc_p95": ("completed_tasks", "ttc", 0.95),
        "heartbeat_cost": ("heartbeats", "cost", "mean"),
    }
    key, field, stat = specs[name]
    va = [float(r[field]) for r in da[key] if r[field] is not None]
    vb = [float(r[field]) for r in db_[key] if r[field] is not None]
    enough = len(va) >= MIN_N and len(vb) >= MIN_N
    if stat == "mean":
        return _Raw(
            mean(va) if va else None, mean(vb) if vb else None, len(va), len(vb), None, None,
            welch_test(va, vb) if enough else None,
        )  # fmt: skip
    q = float(stat)  # a quantile
    # A tail quantile needs data in the tail: at least 5 points beyond it per window (100 for
    # p95), or the bootstrap's standard error is far too small and noise looks significant.
    enough = enough and min(len(va), len(vb)) >= math.ceil(5 / (1 - q))
    test = None
    if enough and min(len(va), len(vb)) >= LARGE_N:
        test = quantile_test(va, vb, q)
    elif enough:
        test = bootstrap_test(va, vb, lambda v: quantile(v, q), resamples=resamples, seed=seed)
    return _Raw(
        quantile(va, q) if va else None,
        quantile(vb, q) if vb else None,
        len(va),
        len(vb),
        None,
        None,
        test,
    )


async def compare_periods(
    db: AsyncSession,
    a: Window,
    b: Window,
    *,
    group_by: str | None = None,
    agent_id: str | None = None,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
    resamples: int = 400,
    seed: int = 0,
) -> PeriodComparison:
    """Compare window ``a`` (before) with window ``b`` (after); deltas are ``b - a``."""
    if a.start >= a.end or b.start >= b.end:
        raise ValueError("each window must start before it ends")
    if group_by is not None and group_by not in DIMENSIONS:
        raise ValueError(f"group_by must be one of {', '.join(DIMENSIONS)}")
    names = list(metrics) if metrics else list(METRICS)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics: {', '.join(unknown)}")
    data_a, data_b = await _window_data(db, a, agent_id), await _window_data(db, b, agent_id)
    split_a = {k: _group(v, group_by) for k, v in data_a.items()}
    split_b = {k: _group(v, group_by) for k, v in data_b.items()}
    keys = sorted(
        {g for d in (*split_a.values(), *split_b.values()) for g in d}, key=lambda g: g or ""
    ) or [None]
    raws: list[tuple[str | None, str, _Raw]] = []
    for i, g in enumerate(keys):
        ga = {k: v.get(g, []) for k, v in split_a.items()}
        gb = {k: v.get(g, []) for k, v in split_b.items()}
        for j, name in enumerate(names):
            raws.append((g, name, _metric(name, ga, gb, seed + 1000 * i + j, resamples)))
    adjusted = holm([r.test.p_value if r.test else None for _g, _n, r in raws])
    groups: dict[str | None, list[MetricComparison]] = defaultdict(list)
    for (g, name, raw), p_adj in zip(raws, adjusted, strict=True):
        groups[g].append(_comparison(METRICS[name], raw, p_adj, alpha))
    return PeriodComparison(
        a=a,
        b=b,
        group_by=group_by,
        alpha=alpha,
        tests=sum(1 for p in adjusted if p is not None),
        groups=[GroupComparison(g, ms) for g, ms in groups.items()],
    )


def _comparison(d: MetricDef, raw: _Raw, p_adj: float | None, alpha: float) -> MetricComparison:
    delta = None if raw.a is None or raw.b is None else raw.b - raw.a
    rel = None if delta is None or not raw.a else delta / abs(raw.a)
    significant = p_adj is not None and p_adj < alpha and bool(delta)
    change = None
    if significant and delta is not None:
        change = "better" if (delta > 0) == d.higher_is_better else "worse"
    t = raw.test
    return MetricComparison(
        metric=d.name, label=d.label, unit=d.unit, higher_is_better=d.higher_is_better,
        method=d.method, a=raw.a, b=raw.b, n_a=raw.n_a, n_b=raw.n_b, events_a=raw.events_a,
        events_b=raw.events_b, delta=delta, relative_delta=rel,
        ci_low=t.ci_low if t else None, ci_high=t.ci_high if t else None,
        p_value=t.p_value if t else None, p_adjusted=p_adj, significant=significant,
        change=change,
    )  # fmt: skip
