"""The human review queue: what most needs a person, claimed so two people never do it twice.

Reasons, most urgent first: ``disagreement`` (an AI review newer than the latest human review
disagrees with it: verdict differs or rating is 2+ apart), ``low_confidence`` (no human review;
the AI verdict is ``unclear`` or its confidence is under the threshold), ``failed`` (no human
review; the session failed or the AI says so), ``unreviewed`` (no review at all). Finished
non-main sessions are session targets; runs with an AI review (heartbeats) are run targets.

Items show who holds a claim on them; the actions (claim, skip, submit) are in ``claims``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_TTL = timedelta(minutes=15)
DEFAULT_SKIP = timedelta(hours=24)
DEFAULT_WINDOW = timedelta(days=30)


class QueueReason(StrEnum):
    DISAGREEMENT = "disagreement"
    LOW_CONFIDENCE = "low_confidence"
    FAILED = "failed"
    UNREVIEWED = "unreviewed"


WEIGHT = {
    QueueReason.DISAGREEMENT: 400,
    QueueReason.LOW_CONFIDENCE: 300,
    QueueReason.FAILED: 200,
    QueueReason.UNREVIEWED: 100,
}


class ClaimConflict(Exception):
    """Someone else holds the target (``CONFLICT`` in the API)."""

    def __init__(self, holder_api_key_id: int | None, expires_at: datetime) -> None:
        super().__init__(f"claimed by another reviewer until {expires_at.isoformat()}")
        self.holder_api_key_id = holder_api_key_id
        self.expires_at = expires_at


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class ReviewBrief:
    id: int
    verdict: str
    rating: int
    confidence: float | None
    reviewer_model: str | None
    summary: str
    created_at: datetime


@dataclass(frozen=True)
class QueueItem:
    session_id: int
    run_id: int | None
    agent_id: str
    kind: str
    status: str
    title: str | None
    finished_at: datetime
    reasons: list[str]
    priority: int
    latest_ai: ReviewBrief | None
    latest_human: ReviewBrief | None
    claimed_by_api_key_id: int | None
    claim_expires_at: datetime | None
    claimed_by_me: bool
    cursor: str


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    next_cursor: str | None


@dataclass(frozen=True)
class Claim:
    session_id: int
    run_id: int | None
    api_key_id: int | None
    claimed_at: datetime
    expires_at: datetime


_RANKED = """
WITH cand AS (
  SELECT s.id AS session_id, CAST(NULL AS bigint) AS run_id, s.agent_id, s.kind, s.status,
         s.title, coalesce(s.ended_at, s.updated_at) AS at
  FROM sessions s
  WHERE s.kind NOT IN ('main', 'heartbeat') AND s.status IN ('completed', 'failed')
    AND coalesce(s.ended_at, s.updated_at) >= :since
    AND (CAST(:agent AS text) IS NULL OR s.agent_id = :agent)
  UNION ALL
  SELECT DISTINCT r.session_id, r.id, r.agent_id, s.kind, r.status, s.title,
         coalesce(r.finished_at, r.started_at)
  FROM reviews v JOIN runs r ON r.id = v.run_id JOIN sessions s ON s.id = r.session_id
  WHERE v.reviewer_kind = 'ai' AND coalesce(r.finished_at, r.started_at) >= :since
    AND (CAST(:agent AS text) IS NULL OR r.agent_id = :agent)
), scored AS (
  SELECT c.*, h.id AS h_id, h.verdict AS h_verdict, h.rating AS h_rating,
         h.summary AS h_summary, h.created_at AS h_at,
         a.id AS a_id, a.verdict AS a_verdict, a.rating AS a_rating, a.confidence AS a_conf,
         a.reviewer_model AS a_model, a.summary AS a_summary, a.created_at AS a_at,
         q.api_key_id AS claim_key, q.expires_at AS claim_expires
  FROM cand c
  LEFT JOIN LATERAL (
    SELECT * FROM reviews v WHERE v.session_id = c.session_id
      AND v.run_id IS NOT DISTINCT FROM c.run_id AND v.reviewer_kind = 'human'
    ORDER BY v.created_at DESC, v.id DESC LIMIT 1) h ON true
  LEFT JOIN LATERAL (
    SELECT * FROM reviews v WHERE v.session_id = c.session_id
      AND v.run_id IS NOT DISTINCT FROM c.run_id AND v.reviewer_kind = 'ai'
    ORDER BY v.created_at DESC, v.id DESC LIMIT 1) a ON true
  LEFT JOIN review_queue_claims q ON q.session_id = c.session_id
    AND coalesce(q.run_id, 0) = coalesce(c.run_id, 0) AND q.expires_at > now()
  WHERE NOT EXISTS (
    SELECT 1 FROM review_queue_skips k WHERE k.session_id = c.session_id
      AND coalesce(k.run_id, 0) = coalesce(c.run_id, 0)
      AND k.api_key_id IS NOT DISTINCT FROM CAST(:me AS integer) AND k.until > now())
), reasoned AS (
  SELECT *, array_remove(ARRAY[
    CASE WHEN h_id IS NOT NULL AND a_id IS NOT NULL AND a_at > h_at
          AND (a_verdict <> h_verdict OR abs(a_rating - h_rating) >= 2)
         THEN 'disagreement' END,
    CASE WHEN h_id IS NULL AND a_id IS NOT NULL
          AND (a_verdict = 'unclear' OR coalesce(a_conf, 0) < :min_conf)
         THEN 'low_confidence' END,
    CASE WHEN h_id IS NULL AND (status = 'failed' OR a_verdict = 'failed') THEN 'failed' END,
    CASE WHEN h_id IS NULL AND a_id IS NULL THEN 'unreviewed' END
  ], NULL) AS reasons
  FROM scored
), ranked AS (
  SELECT *, (SELECT max(CASE x {weights} END) + 10 * (cardinality(reasons) - 1)
             FROM unnest(reasons) x) AS priority
  FROM reasoned WHERE cardinality(reasons) > 0
)
""".replace("{weights}", " ".join(f"WHEN '{r.value}' THEN {w}" for r, w in WEIGHT.items()))

_QUEUE = (
    _RANKED
    + """
SELECT * FROM ranked
WHERE (CAST(:include_claimed AS boolean) OR claim_key IS NULL
       OR claim_key IS NOT DISTINCT FROM CAST(:me AS integer))
  AND (CAST(:c_priority AS integer) IS NULL
       OR (priority, at, session_id, coalesce(run_id, 0))
          < (:c_priority, :c_at, :c_session, :c_run))
ORDER BY priority DESC, at DESC, session_id DESC, coalesce(run_id, 0) DESC
LIMIT :limit
"""
)

_COUNTS = (
    _RANKED
    + "SELECT count(*) AS total, "
    + ", ".join(
        f"count(*) FILTER (WHERE '{r.value}' = ANY(reasons)) AS {r.value}" for r in QueueReason
    )
    + " FROM ranked"
)


def _encode_cursor(priority: int, at: datetime, session_id: int, run_id: int | None) -> str:
    raw = json.dumps([priority, at.isoformat(), session_id, run_id or 0])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, datetime, int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        p, at, s, r = json.loads(raw)
        ints = int(p), int(s), int(r)
        if any(not -(2**31) <= i < 2**63 for i in ints):  # 1e400 and friends
            raise ValueError("cursor number out of range")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive cursor time")
        return ints[0], when.astimezone(UTC), ints[1], ints[2]
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise BadCursor("invalid queue cursor") from exc


def _brief(prefix: str, row: Any) -> ReviewBrief | None:
    rid = getattr(row, f"{prefix}_id")
    if rid is None:
        return None
    return ReviewBrief(
        id=rid,
        verdict=str(getattr(row, f"{prefix}_verdict")),
        rating=int(getattr(row, f"{prefix}_rating")),
        confidence=row.a_conf if prefix == "a" else None,
        reviewer_model=row.a_model if prefix == "a" else None,
        summary=getattr(row, f"{prefix}_summary") or "",
        created_at=getattr(row, f"{prefix}_at"),
    )


async def list_review_queue(
    db: AsyncSession,
    *,
    api_key_id: int | None,
    first: int = 50,
    after: str | None = None,
    agent_id: str | None = None,
    since: datetime | None = None,
    min_confidence: float = 0.6,
    include_claimed: bool = True,
) -> QueuePage:
    """Queue items for the caller, most urgent first (keyset-paginated, opaque cursor)."""
    cp, cat, cs, cr = _decode_cursor(after) if after else (None, None, None, None)
    rows = (
        await db.execute(
            text(_QUEUE),
            {
                "since": since or datetime.now(UTC) - DEFAULT_WINDOW,
                "agent": agent_id,
                "me": api_key_id,
                "min_conf": min_confidence,
                "include_claimed": include_claimed,
                "c_priority": cp,
                "c_at": cat,
                "c_session": cs,
                "c_run": cr,
                "limit": first + 1,
            },
        )
    ).all()
    items = [
        QueueItem(
            session_id=r.session_id,
            run_id=r.run_id,
            agent_id=r.agent_id,
            kind=str(r.kind),
            status=str(r.status),
            title=r.title,
            finished_at=r.at,
            reasons=list(r.reasons),
            priority=int(r.priority),
            latest_ai=_brief("a", r),
            latest_human=_brief("h", r),
            claimed_by_api_key_id=r.claim_key if r.claim_expires else None,
            claim_expires_at=r.claim_expires,
            claimed_by_me=r.claim_expires is not None and r.claim_key == api_key_id,
            cursor=_encode_cursor(int(r.priority), r.at, r.session_id, r.run_id),
        )
        for r in rows[:first]
    ]
    more = len(rows) > first
    return QueuePage(items, items[-1].cursor if more and items else None)


async def queue_counts(
    db: AsyncSession,
    *,
    api_key_id: int | None,
    agent_id: str | None = None,
    since: datetime | None = None,
    min_confidence: float = 0.6,
) -> dict[str, int]:
    """Items per reason (an item with two reasons counts under both), and ``total``."""
    row = (
        await db.execute(
            text(_COUNTS),
            {
                "since": since or datetime.now(UTC) - DEFAULT_WINDOW,
                "agent": agent_id,
                "me": api_key_id,
                "min_conf": min_confidence,
            },
        )
    ).one()
    return {k: int(v) for k, v in row._mapping.items()}
