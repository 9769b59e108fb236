"""Pattern detection over a window: recurring errors, failure terms, idle heartbeats, stalled
tasks and main sessions that missed their heartbeat cadence. Deterministic methods only."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.improve.stats import quantile
from observatory.improve.textstats import TermStat, error_signature, over_represented_terms

IDLE_OUTCOME = re.compile(r"^\W*HEARTBEAT_OK\W*$")


@dataclass(frozen=True)
class PatternConfig:
    min_error_sessions: int = 3  # a signature must recur in this many sessions
    min_term_docs: int = 3
    alpha: float = 0.05
    min_idle_heartbeats: int = 10
    min_idle_share: float = 0.5
    stall_after: timedelta = timedelta(minutes=30)
    min_heartbeats_for_cadence: int = 5
    cadence_tolerance: float = 2.0  # a gap over this many expected intervals is a miss
    min_missed_beats: int = 3


@dataclass(frozen=True)
class ErrorSignature:
    signature: str
    occurrences: int
    sessions: int
    failed_sessions: int
    agents: list[str]
    tools: list[str]
    first_seen: datetime
    last_seen: datetime
    example: str
    session_ids: list[int]  # up to 20, most recent first
    message_ids: list[int]  # up to 20 tool-result messages carrying it


@dataclass(frozen=True)
class IdleHeartbeats:
    agent_id: str
    heartbeats: int
    idle: int
    idle_share: float
    idle_tokens: int | None
    idle_cost: Decimal | None
    run_ids: list[int]  # up to 20 examples


@dataclass(frozen=True)
class StalledTask:
    session_id: int
    agent_id: str
    title: str | None
    last_activity_at: datetime
    idle_for: timedelta


@dataclass(frozen=True)
class MissedCadence:
    session_id: int
    agent_id: str
    expected_interval: timedelta
    last_heartbeat_at: datetime
    overdue_by: timedelta | None  # None when the last beat is on time
    missed_beats: int  # estimated beats missed inside the window and since the last beat


@dataclass(frozen=True)
class PatternReport:
    since: datetime
    until: datetime
    error_signatures: list[ErrorSignature] = field(default_factory=list)
    failure_terms: list[TermStat] = field(default_factory=list)
    idle_heartbeats: list[IdleHeartbeats] = field(default_factory=list)
    stalled_tasks: list[StalledTask] = field(default_factory=list)
    missed_cadence: list[MissedCadence] = field(default_factory=list)


_AGENT = "(CAST(:agent AS text) IS NULL OR r.agent_id = :agent)"

_TOOL_ERRORS = f"""
SELECT m.id AS message_id, m.session_id, r.agent_id, s.status::text AS status, m.created_at,
       b->>'name' AS tool, coalesce(b->>'text', '') AS body
FROM runs r
JOIN messages m ON m.run_id = r.id
JOIN sessions s ON s.id = m.session_id
CROSS JOIN LATERAL jsonb_array_elements(
  CASE WHEN jsonb_typeof(m.content->'blocks') = 'array' THEN m.content->'blocks'
       ELSE '[]'::jsonb END) b
WHERE r.started_at >= :since AND r.started_at < :until AND {_AGENT} AND m.is_error
  AND m.role = 'tool_result' AND b->>'type' = 'tool_result'
"""

_RUN_ERRORS = f"""
SELECT NULL::bigint AS message_id, r.session_id, r.agent_id, s.status::text AS status,
       coalesce(r.finished_at, r.started_at) AS created_at, NULL AS tool, r.error AS body
FROM runs r JOIN sessions s ON s.id = r.session_id
WHERE r.started_at >= :since AND r.started_at < :until AND {_AGENT} AND r.error IS NOT NULL
"""

_SUMMARIES = f"""
SELECT e.verdict, e.summary FROM (
  SELECT DISTINCT ON (v.session_id, coalesce(v.run_id, 0)) v.verdict, v.summary, v.session_id
  FROM reviews v
  WHERE v.created_at >= :since AND v.created_at < :until AND v.summary <> ''
  ORDER BY v.session_id, coalesce(v.run_id, 0), (v.reviewer_kind = 'human') DESC,
           v.created_at DESC, v.id DESC
) e JOIN sessions r ON r.id = e.session_id WHERE {_AGENT}
"""

_HEARTBEATS = f"""
SELECT r.id, r.agent_id, r.outcome_preview, r.tool_call_count,
       r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost
FROM runs r
WHERE r.trigger = 'heartbeat' AND r.status = 'completed'
  AND r.started_at >= :since AND r.started_at < :until AND {_AGENT}
ORDER BY r.started_at DESC
"""

_STALLED = """
SELECT s.id, s.agent_id, s.title,
       greatest(s.updated_at, coalesce(s.last_run_at, s.updated_at),
                coalesce((SELECT max(m.created_at) FROM messages m WHERE m.session_id = s.id),
                         s.updated_at)) AS last_activity
FROM sessions s
WHERE s.kind = 'task' AND s.status = 'running'
  AND (CAST(:agent AS text) IS NULL OR s.agent_id = :agent)
"""

_BEATS = """
SELECT s.id AS session_id, s.agent_id, r.started_at
FROM sessions s JOIN runs r ON r.session_id = s.id AND r.trigger = 'heartbeat'
WHERE s.kind = 'main' AND s.status IN ('running', 'pending')
  AND (CAST(:agent AS text) IS NULL OR s.agent_id = :agent)
  AND r.started_at >= :since AND r.started_at < :until
ORDER BY s.id, r.started_at
"""


async def find_patterns(
    db: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    agent_id: str | None = None,
    now: datetime | None = None,
    config: PatternConfig | None = None,
) -> PatternReport:
    """Patterns in ``[since, until)``; stalls and overdue heartbeats are judged at ``now``
    (default: ``until`` when it is in the past, else the current time)."""
    if since >= until:
        raise ValueError("since must be before until")
    cfg = config or PatternConfig()
    current = now or min(until, datetime.now(UTC))
    p: dict[str, object] = {"since": since, "until": until, "agent": agent_id}
    return PatternReport(
        since=since,
        until=until,
        error_signatures=await _error_signatures(db, p, cfg),
        failure_terms=await _failure_terms(db, p, cfg),
        idle_heartbeats=await _idle_heartbeats(db, p, cfg),
        stalled_tasks=await _stalled(db, agent_id, current, cfg),
        missed_cadence=await _cadence(db, p, current, cfg),
    )


async def _error_signatures(
    db: AsyncSession, p: dict[str, object], cfg: PatternConfig
) -> list[ErrorSignature]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for sql in (_TOOL_ERRORS, _RUN_ERRORS):
        for row in await db.execute(text(sql), p):
            sig = error_signature(str(row.body or ""))
            if sig:
                groups[sig].append(row)
    out: list[ErrorSignature] = []
    for sig, rows in groups.items():
        sessions = {r.session_id for r in rows}
        if len(sessions) < cfg.min_error_sessions:
            continue
        rows.sort(key=lambda r: r.created_at, reverse=True)
        out.append(
            ErrorSignature(
                signature=sig,
                occurrences=len(rows),
                sessions=len(sessions),
                failed_sessions=len({r.session_id for r in rows if r.status == "failed"}),
                agents=sorted({r.agent_id for r in rows}),
                tools=sorted({r.tool for r in rows if r.tool}),
                first_seen=rows[-1].created_at,
                last_seen=rows[0].created_at,
                example=str(rows[0].body)[:500],
                session_ids=list(dict.fromkeys(r.session_id for r in rows))[:20],
                message_ids=[r.message_id for r in rows if r.message_id][:20],
            )
        )
    out.sort(key=lambda e: (-e.sessions, -e.occurrences, e.signature))
    return out


async def _failure_terms(
    db: AsyncSession, p: dict[str, object], cfg: PatternConfig
) -> list[TermStat]:
    failed: list[str] = []
    other: list[str] = []
    for row in await db.execute(text(_SUMMARIES), p):
        if row.verdict in ("failed", "partial"):
            failed.append(row.summary)
        elif row.verdict == "accomplished":
            other.append(row.summary)
    return over_represented_terms(failed, other, min_docs=cfg.min_term_docs, alpha=cfg.alpha)


def _tokens(r: Any) -> int | None:
    if r.input_tokens is None and r.output_tokens is None:
        return None
    return sum(
        getattr(r, c) or 0
        for c in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    )


async def _idle_heartbeats(
    db: AsyncSession, p: dict[str, object], cfg: PatternConfig
) -> list[IdleHeartbeats]:
    per_agent: dict[str, list[Any]] = defaultdict(list)
    for row in await db.execute(text(_HEARTBEATS), p):
        per_agent[row.agent_id].append(row)
    out: list[IdleHeartbeats] = []
    for agent, rows in sorted(per_agent.items()):
        idle = [
            r for r in rows if IDLE_OUTCOME.match(r.outcome_preview or "") and not r.tool_call_count
        ]
        share = len(idle) / len(rows)
        if len(idle) < cfg.min_idle_heartbeats or share < cfg.min_idle_share:
            continue
        tokens = [t for t in map(_tokens, idle) if t is not None]
        costs = [r.cost for r in idle if r.cost is not None]
        if not tokens and not costs:
            continue  # usage unknown: nothing we can show being spent
        out.append(
            IdleHeartbeats(
                agent_id=agent,
                heartbeats=len(rows),
                idle=len(idle),
                idle_share=share,
                idle_tokens=sum(tokens) if tokens else None,
                idle_cost=sum(costs, Decimal(0)) if costs else None,
                run_ids=[r.id for r in idle[:20]],
            )
        )
    return out


async def _stalled(
    db: AsyncSession, agent_id: str | None, now: datetime, cfg: PatternConfig
) -> list[StalledTask]:
    out = [
        StalledTask(row.id, row.agent_id, row.title, row.last_activity, now - row.last_activity)
        for row in await db.execute(text(_STALLED), {"agent": agent_id})
        if now - row.last_activity > cfg.stall_after
    ]
    out.sort(key=lambda s: s.idle_for, reverse=True)
    return out


async def _cadence(
    db: AsyncSession, p: dict[str, object], now: datetime, cfg: PatternConfig
) -> list[MissedCadence]:
    beats: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for row in await db.execute(text(_BEATS), p):
        beats[(row.session_id, row.agent_id)].append(row.started_at)
    out: list[MissedCadence] = []
    for (session_id, agent), times in sorted(beats.items()):
        if len(times) < cfg.min_heartbeats_for_cadence:
            continue
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        expected = quantile(gaps, 0.5)
        if expected <= 0:
            continue
        limit = cfg.cadence_tolerance * expected
        missed = sum(int(g // expected) - 1 for g in gaps if g > limit)
        since_last = (now - times[-1]).total_seconds()
        overdue = since_last > limit
        if overdue:
            missed += int(since_last // expected)
        if missed >= cfg.min_missed_beats or overdue:
            out.append(
                MissedCadence(
                    session_id=session_id,
                    agent_id=agent,
                    expected_interval=timedelta(seconds=expected),
                    last_heartbeat_at=times[-1],
                    overdue_by=timedelta(seconds=since_last - expected) if overdue else None,
                    missed_beats=missed,
                )
            )
    return out


async def stalled_tasks(
    db: AsyncSession, *, now: datetime, agent_id: str | None = None, config: PatternConfig
) -> list[StalledTask]:
    """Running tasks idle longer than ``config.stall_after`` at ``now`` (alerts use it alone)."""
    return await _stalled(db, agent_id, now, config)


async def missed_cadence(
    db: AsyncSession,
    *,
    since: datetime,
    now: datetime,
    agent_id: str | None = None,
    config: PatternConfig,
) -> list[MissedCadence]:
    """Main sessions whose heartbeats in ``[since, now)`` show a missed cadence at ``now``."""
    return await _cadence(db, {"since": since, "until": now, "agent": agent_id}, now, config)
