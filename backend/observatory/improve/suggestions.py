"""Improvement suggestions from deterministic rules, each with its evidence, and their impact.

Rules turn the pattern report and a period comparison into concrete changes (heartbeat prompt
and config, task execution, tooling). A finding keeps one row (``dedupe_key``): seeing it again
refreshes an open suggestion, and never re-opens one that was applied or dismissed. Marking a
suggestion applied at a time starts its before/after comparison on the metrics it targets
(``suggestion_impact``), computed on read, so it is always current.

Write functions flush but never commit: call them inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.improve.compare import METRICS, MetricComparison, Window, compare_periods
from observatory.improve.patterns import PatternConfig, find_patterns
from observatory.improve.rules import suggest_from
from observatory.review.models import ImprovementSuggestion


@dataclass(frozen=True)
class SuggestionInfo:
    id: int
    rule: str
    target: str
    agent_id: str | None
    title: str
    body: str
    target_metrics: list[str]
    evidence: dict[str, Any]
    status: str
    seen_count: int
    created_at: datetime
    updated_at: datetime
    applied_at: datetime | None
    applied_by_api_key_id: int | None
    note: str | None


@dataclass(frozen=True)
class SuggestionImpact:
    suggestion: SuggestionInfo
    before: Window
    after: Window
    complete: bool  # the "after" window has fully elapsed
    metrics: list[MetricComparison]


class SuggestionNotFound(LookupError):
    pass


class NotApplied(ValueError):
    pass


def _info(s: ImprovementSuggestion) -> SuggestionInfo:
    return SuggestionInfo(
        id=s.id, rule=s.rule, target=s.target, agent_id=s.agent_id, title=s.title, body=s.body,
        target_metrics=list(s.target_metrics or []), evidence=dict(s.evidence or {}),
        status=s.status, seen_count=s.seen_count, created_at=s.created_at,
        updated_at=s.updated_at, applied_at=s.applied_at,
        applied_by_api_key_id=s.applied_by_api_key_id, note=s.note,
    )  # fmt: skip


async def generate_suggestions(
    db: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
    compare: bool = True,
    config: PatternConfig | None = None,
) -> list[SuggestionInfo]:
    """Run the rules over ``[since, until)`` (compared with the window of equal length before
    it) and store the suggestions; returns every suggestion the run produced or refreshed."""
    report = await find_patterns(db, since=since, until=until, now=now, config=config)
    comparison = None
    if compare:
        before = Window(since - (until - since), since)
        comparison = await compare_periods(db, before, Window(since, until), group_by="agent")
    out: list[SuggestionInfo] = []
    stamp = datetime.now(UTC)
    for c in suggest_from(report, comparison):
        row = await db.scalar(
            select(ImprovementSuggestion)
            .where(ImprovementSuggestion.dedupe_key == c.dedupe_key)
            .with_for_update()
        )
        if row is None:
            row = ImprovementSuggestion(
                dedupe_key=c.dedupe_key, rule=c.rule, target=c.target, agent_id=c.agent_id,
                title=c.title, body=c.body, target_metrics=c.target_metrics, evidence=c.evidence,
                created_at=stamp, updated_at=stamp,
            )  # fmt: skip
            db.add(row)
        elif row.status == "open":
            row.title, row.body, row.evidence = c.title, c.body, c.evidence
            row.target_metrics = c.target_metrics
            row.seen_count += 1
            row.updated_at = stamp
        await db.flush()
        out.append(_info(row))
    return out


async def list_suggestions(
    db: AsyncSession,
    *,
    status: str | None = None,
    agent_id: str | None = None,
    first: int = 50,
    before_id: int | None = None,
) -> list[SuggestionInfo]:
    """Newest first; keyset on id (pass the last id seen as ``before_id``)."""
    q = select(ImprovementSuggestion).order_by(ImprovementSuggestion.id.desc()).limit(first)
    if status:
        q = q.where(ImprovementSuggestion.status == status)
    if agent_id:
        q = q.where(ImprovementSuggestion.agent_id == agent_id)
    if before_id is not None:
        q = q.where(ImprovementSuggestion.id < before_id)
    return [_info(s) for s in await db.scalars(q)]


async def _get(db: AsyncSession, suggestion_id: int, lock: bool = False) -> ImprovementSuggestion:
    row = await db.get(ImprovementSuggestion, suggestion_id, with_for_update=lock)
    if row is None:
        raise SuggestionNotFound(f"suggestion {suggestion_id} not found")
    return row


async def get_suggestion(db: AsyncSession, suggestion_id: int) -> SuggestionInfo:
    return _info(await _get(db, suggestion_id))


async def mark_suggestion_applied(
    db: AsyncSession,
    suggestion_id: int,
    *,
    applied_at: datetime | None = None,
    api_key_id: int | None = None,
    note: str | None = None,
) -> SuggestionInfo:
    """Mark applied at ``applied_at`` (default now; may be in the past, when the change was
    made before it was recorded). Marking again moves the time."""
    row = await _get(db, suggestion_id, lock=True)
    when = applied_at or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("applied_at must be timezone-aware")
    row.status, row.applied_at, row.applied_by_api_key_id = "applied", when, api_key_id
    row.note = note if note is not None else row.note
    row.updated_at = datetime.now(UTC)
    await db.flush()
    return _info(row)


async def set_suggestion_status(
    db: AsyncSession,
    suggestion_id: int,
    status: str,
    *,
    api_key_id: int | None = None,
    note: str | None = None,
) -> SuggestionInfo:
    """Dismiss (``dismissed``) or re-open (``open``) a suggestion; use
    ``mark_suggestion_applied`` to apply it."""
    if status not in ("open", "dismissed"):
        raise ValueError("status must be open or dismissed")
    row = await _get(db, suggestion_id, lock=True)
    row.status = status
    if status == "open":
        row.applied_at = row.applied_by_api_key_id = None
    row.note = note if note is not None else row.note
    row.updated_at = datetime.now(UTC)
    await db.flush()
    return _info(row)


async def suggestion_impact(
    db: AsyncSession,
    suggestion_id: int,
    *,
    window: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> SuggestionImpact:
    """Before/after comparison of an applied suggestion on its target metrics (for its agent):
    ``window`` before the application against up to ``window`` after it."""
    row = await _get(db, suggestion_id)
    if row.applied_at is None:
        raise NotApplied(f"suggestion {suggestion_id} has not been applied")
    current = now or datetime.now(UTC)
    applied = row.applied_at
    before = Window(applied - window, applied)
    after = Window(applied, max(applied, min(applied + window, current)))
    if after.end <= after.start:  # applied now or in the future: nothing to compare yet
        return SuggestionImpact(_info(row), before, after, complete=False, metrics=[])
    metrics = [m for m in row.target_metrics or [] if m in METRICS] or list(METRICS)
    result = await compare_periods(db, before, after, agent_id=row.agent_id, metrics=metrics)
    return SuggestionImpact(
        suggestion=_info(row),
        before=before,
        after=after,
        complete=current >= applied + window,
        metrics=result.groups[0].metrics if result.groups else [],
    )
