"""Human review queue actions: claim (with expiry), release, skip, claim-next, submit.

A claim holds a target for ``ttl`` and expires by itself, so a closed browser tab does not lock
an item forever; claiming is one atomic upsert, so two people racing for an item cannot both win.
A skip hides the target from that reviewer only, for a while. Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.enums import Verdict
from observatory.review.queue import (
    DEFAULT_SKIP,
    DEFAULT_TTL,
    Claim,
    ClaimConflict,
    QueueItem,
    ReviewBrief,
    list_review_queue,
)
from observatory.review.writes import (
    InvalidReview,
    check_target,
    create_human_review,
    validate_review,
)


async def claim_queue_item(
    db: AsyncSession,
    *,
    session_id: int,
    run_id: int | None = None,
    api_key_id: int | None,
    ttl: timedelta = DEFAULT_TTL,
) -> Claim:
    """Claim (or extend my claim on) a target; ``ClaimConflict`` if someone else holds it."""
    await check_target(db, session_id, run_id)
    row = (
        await db.execute(
            text(
                """
                INSERT INTO review_queue_claims (session_id, run_id, api_key_id, expires_at)
                VALUES (:s, :r, :k, now() + CAST(:ttl AS interval))
                ON CONFLICT (session_id, (coalesce(run_id, 0))) DO UPDATE
                  SET api_key_id = excluded.api_key_id, claimed_at = now(),
                      expires_at = excluded.expires_at
                  WHERE review_queue_claims.expires_at <= now()
                     OR review_queue_claims.api_key_id IS NOT DISTINCT FROM excluded.api_key_id
                RETURNING claimed_at, expires_at
                """
            ),
            {"s": session_id, "r": run_id, "k": api_key_id, "ttl": ttl},
        )
    ).first()
    if row is None:
        holder = (
            await db.execute(
                text(
                    "SELECT api_key_id, expires_at FROM review_queue_claims "
                    "WHERE session_id = :s AND coalesce(run_id, 0) = coalesce(:r, 0)"
                ),
                {"s": session_id, "r": run_id},
            )
        ).one()
        raise ClaimConflict(holder.api_key_id, holder.expires_at)
    return Claim(session_id, run_id, api_key_id, row.claimed_at, row.expires_at)


async def release_claim(
    db: AsyncSession, *, session_id: int, run_id: int | None = None, api_key_id: int | None
) -> bool:
    result = await db.execute(
        text(
            "DELETE FROM review_queue_claims WHERE session_id = :s "
            "AND coalesce(run_id, 0) = coalesce(:r, 0) AND api_key_id IS NOT DISTINCT FROM :k"
        ),
        {"s": session_id, "r": run_id, "k": api_key_id},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def skip_queue_item(
    db: AsyncSession,
    *,
    session_id: int,
    run_id: int | None = None,
    api_key_id: int | None,
    hide_for: timedelta = DEFAULT_SKIP,
) -> None:
    """Hide the target from this reviewer for ``hide_for`` and release their claim on it."""
    await check_target(db, session_id, run_id)
    await db.execute(
        text(
            """
            INSERT INTO review_queue_skips (session_id, run_id, api_key_id, until)
            VALUES (:s, :r, :k, now() + CAST(:for AS interval))
            ON CONFLICT ((coalesce(api_key_id, 0)), session_id, (coalesce(run_id, 0)))
            DO UPDATE SET skipped_at = now(), until = excluded.until
            """
        ),
        {"s": session_id, "r": run_id, "k": api_key_id, "for": hide_for},
    )
    await release_claim(db, session_id=session_id, run_id=run_id, api_key_id=api_key_id)


async def claim_next_queue_item(
    db: AsyncSession,
    *,
    api_key_id: int | None,
    ttl: timedelta = DEFAULT_TTL,
    agent_id: str | None = None,
    since: datetime | None = None,
) -> QueueItem | None:
    """Claim the most urgent item nobody else holds (my own current claim comes back first)."""
    after: str | None = None
    for _page in range(20):
        page = await list_review_queue(
            db,
            api_key_id=api_key_id,
            first=25,
            after=after,
            agent_id=agent_id,
            since=since,
            include_claimed=False,
        )
        for item in sorted(page.items, key=lambda i: not i.claimed_by_me):
            try:
                claim = await claim_queue_item(
                    db,
                    session_id=item.session_id,
                    run_id=item.run_id,
                    api_key_id=api_key_id,
                    ttl=ttl,
                )
            except ClaimConflict:
                continue  # taken since we listed it
            return _with_claim(item, claim)
        if page.next_cursor is None:
            return None
        after = page.next_cursor
    return None


def _with_claim(item: QueueItem, claim: Claim) -> QueueItem:
    return replace(
        item,
        claimed_by_api_key_id=claim.api_key_id,
        claim_expires_at=claim.expires_at,
        claimed_by_me=True,
    )


async def submit_queue_review(
    db: AsyncSession,
    *,
    session_id: int,
    run_id: int | None = None,
    api_key_id: int | None,
    verdict: str,
    rating: int,
    summary: str = "",
) -> ReviewBrief:
    """Store a human review for a queue target and release its claim. ``ClaimConflict`` if
    another reviewer holds the target; ``InvalidReview`` (a ``ValueError``) for a bad field."""
    try:
        kind = Verdict(verdict)
    except ValueError:
        raise InvalidReview(f"unknown verdict {verdict!r}", "verdict") from None
    validate_review(rating, summary)
    await check_target(db, session_id, run_id)
    holder = (
        await db.execute(
            text(
                "SELECT api_key_id, expires_at FROM review_queue_claims WHERE session_id = :s "
                "AND coalesce(run_id, 0) = coalesce(:r, 0) AND expires_at > now() FOR UPDATE"
            ),
            {"s": session_id, "r": run_id},
        )
    ).first()
    if holder is not None and holder.api_key_id != api_key_id:
        raise ClaimConflict(holder.api_key_id, holder.expires_at)
    review = await create_human_review(
        db,
        session_id=session_id,
        run_id=run_id,
        verdict=kind,
        rating=rating,
        summary=summary,
        api_key_id=api_key_id,
    )
    await db.execute(
        text(
            "DELETE FROM review_queue_claims WHERE session_id = :s "
            "AND coalesce(run_id, 0) = coalesce(:r, 0)"
        ),
        {"s": session_id, "r": run_id},
    )
    return ReviewBrief(
        review.id,
        str(review.verdict),
        review.rating,
        None,
        None,
        review.summary,
        review.created_at,
    )
