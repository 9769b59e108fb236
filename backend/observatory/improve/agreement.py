"""Judge vs human: how often the AI reviewer agrees with people, per reviewer model, over time.

A pair is one target (a session, or one run) with both a human and an AI review: the latest
human review against the latest AI review of each model. Pairs are bucketed by the AI review's
time, so a prompt or model change shows up as a step in the series. Cohen's kappa corrects the
verdict agreement for chance (a judge that always says "accomplished" agrees often on easy data).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BUCKETS = ("hour", "day", "week", "month")


@dataclass(frozen=True)
class AgreementStats:
    pairs: int
    verdict_matches: int
    agreement_rate: float | None
    mean_abs_rating_diff: float | None
    mean_rating_diff: float | None  # AI minus human: > 0 means the judge is lenient


@dataclass(frozen=True)
class AgreementPoint:
    bucket: datetime
    reviewer_model: str
    stats: AgreementStats


@dataclass(frozen=True)
class ModelAgreement:
    reviewer_model: str
    stats: AgreementStats
    kappa: float | None
    # human verdict -> AI verdict -> pairs
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationSplit:
    """Agreement of AI reviews written without and with human calibration examples."""

    reviewer_model: str
    uncalibrated: AgreementStats
    calibrated: AgreementStats


@dataclass(frozen=True)
class JudgeAgreement:
    points: list[AgreementPoint]
    models: list[ModelAgreement]
    calibration: list[CalibrationSplit] = field(default_factory=list)


_PAIRS = """
WITH human AS (
  SELECT DISTINCT ON (session_id, coalesce(run_id, 0)) session_id, run_id, verdict, rating
  FROM reviews WHERE reviewer_kind = 'human'
  ORDER BY session_id, coalesce(run_id, 0), created_at DESC, id DESC
), ai AS (
  SELECT DISTINCT ON (session_id, coalesce(run_id, 0), reviewer_model)
         session_id, run_id, reviewer_model, verdict, rating, created_at,
         coalesce(jsonb_array_length(
           CASE WHEN jsonb_typeof(evidence->'calibration_review_ids') = 'array'
                THEN evidence->'calibration_review_ids' END), 0) > 0 AS calibrated
  FROM reviews
  WHERE reviewer_kind = 'ai' AND created_at >= :since AND created_at < :until
    AND (CAST(:model AS text) IS NULL OR reviewer_model = :model)
  ORDER BY session_id, coalesce(run_id, 0), reviewer_model, created_at DESC, id DESC
)
SELECT date_trunc(:bucket, a.created_at, 'UTC') AS bucket,
       coalesce(a.reviewer_model, 'unknown') AS model,
       h.verdict AS human_verdict, a.verdict AS ai_verdict,
       h.rating AS human_rating, a.rating AS ai_rating, a.calibrated
FROM ai a
JOIN human h ON h.session_id = a.session_id AND coalesce(h.run_id, 0) = coalesce(a.run_id, 0)
JOIN sessions s ON s.id = a.session_id
WHERE CAST(:agent AS text) IS NULL OR s.agent_id = :agent
"""

Pair = tuple[str, str, int, int]  # human verdict, ai verdict, human rating, ai rating


def agreement_stats(pairs: list[Pair]) -> AgreementStats:
    n = len(pairs)
    if not n:
        return AgreementStats(0, 0, None, None, None)
    matches = sum(1 for h, a, _hr, _ar in pairs if h == a)
    diffs = [ar - hr for _h, _a, hr, ar in pairs]
    return AgreementStats(
        pairs=n,
        verdict_matches=matches,
        agreement_rate=matches / n,
        mean_abs_rating_diff=sum(abs(d) for d in diffs) / n,
        mean_rating_diff=sum(diffs) / n,
    )


def cohen_kappa(pairs: list[Pair]) -> float | None:
    n = len(pairs)
    if not n:
        return None
    observed = sum(1 for h, a, *_ in pairs if h == a) / n
    human = Counter(h for h, *_ in pairs)
    ai = Counter(a for _h, a, *_ in pairs)
    expected = sum(human[v] * ai[v] for v in human) / (n * n)
    if expected >= 1.0:
        return None  # both always said the same single verdict: kappa is undefined
    return (observed - expected) / (1 - expected)


async def judge_agreement(
    db: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    bucket: str = "week",
    agent_id: str | None = None,
    reviewer_model: str | None = None,
) -> JudgeAgreement:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    rows = await db.execute(
        text(_PAIRS),
        {
            "since": since,
            "until": until,
            "bucket": bucket,
            "agent": agent_id,
            "model": reviewer_model,
        },
    )
    by_point: dict[tuple[datetime, str], list[Pair]] = defaultdict(list)
    by_model: dict[str, list[Pair]] = defaultdict(list)
    by_calibration: dict[tuple[str, bool], list[Pair]] = defaultdict(list)
    for r in rows:
        pair = (str(r.human_verdict), str(r.ai_verdict), int(r.human_rating), int(r.ai_rating))
        by_point[(r.bucket, r.model)].append(pair)
        by_model[r.model].append(pair)
        by_calibration[(r.model, bool(r.calibrated))].append(pair)
    points = [AgreementPoint(b, m, agreement_stats(p)) for (b, m), p in sorted(by_point.items())]
    models = []
    for model, pairs in sorted(by_model.items()):
        confusion: dict[str, dict[str, int]] = defaultdict(dict)
        for (h, a), count in Counter((h, a) for h, a, *_ in pairs).items():
            confusion[h][a] = count
        models.append(
            ModelAgreement(model, agreement_stats(pairs), cohen_kappa(pairs), dict(confusion))
        )
    calibration = [
        CalibrationSplit(
            model,
            agreement_stats(by_calibration[(model, False)]),
            agreement_stats(by_calibration[(model, True)]),
        )
        for model in sorted(by_model)
        if by_calibration.get((model, True))
    ]
    return JudgeAgreement(points=points, models=models, calibration=calibration)
