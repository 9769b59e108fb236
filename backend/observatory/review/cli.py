"""``observatory review --ai --since 7d [--agent A]``: backfill AI reviews, with progress."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` or an ISO timestamp."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - delta
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration or ISO time: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def register_cli(subparsers: Any) -> None:
    p = subparsers.add_parser("review", help="AI reviews: backfill a period now, with progress")
    p.add_argument("--ai", action="store_true", required=True, help="review with the AI reviewer")
    p.add_argument("--since", type=parse_since, default="7d", help="7d, 12h, or an ISO time")
    p.add_argument("--agent", help="only this agent (its id)")
    p.add_argument(
        "--heartbeats",
        type=float,
        default=0.0,
        metavar="RATE",
        help="also review this deterministic sample (0-1) of heartbeat runs",
    )
    p.add_argument("--limit", type=int, default=10_000, help="at most this many targets")
    p.add_argument("--dry-run", action="store_true", help="count the targets, review nothing")
    p.set_defaults(func=cmd_review)


def cmd_review(args: argparse.Namespace) -> int:
    import logging

    from observatory.runtime import database_url
    from observatory.settings import load_settings

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns progress
    settings = load_settings()
    if not settings.ai_base_url:
        print("set OBSERVATORY_AI_BASE_URL (and AI_MODEL, AI_API_KEY) first", file=sys.stderr)
        return 2
    return asyncio.run(_review(args, settings, database_url(settings)))


async def _review(args: argparse.Namespace, settings: Any, url: str) -> int:
    from observatory.db.engine import make_engine, make_session_factory
    from observatory.db.migrate import upgrade_async
    from observatory.review.client import ChatClient
    from observatory.review.policy import enqueue_since
    from observatory.review.worker import JobResult, review_jobs_now

    await upgrade_async(url)
    engine = make_engine(url, pool_size=max(2, settings.ai_max_concurrency), app_name="review-cli")
    factory = make_session_factory(engine)
    try:
        async with factory() as db:
            transaction = await db.begin()
            ids = await enqueue_since(
                db,
                args.since,
                agent_id=args.agent,
                heartbeat_sample_rate=args.heartbeats,
                limit=args.limit,
            )
            await (transaction.rollback() if args.dry_run else transaction.commit())
        scope = f" for agent {args.agent}" if args.agent else ""
        print(
            f"{len(ids)} targets to review since {args.since:%Y-%m-%d %H:%M}{scope}",
            file=sys.stderr,
        )
        if args.dry_run or not ids:
            return 0
        cost = Decimal(0)
        failed = 0

        def progress(done: int, total: int, result: JobResult) -> None:
            nonlocal failed
            if result.status == "failed":
                failed += 1
            detail = f"review {result.review_id}" if result.review_id else result.reason
            print(
                f"  [{done}/{total}] job {result.job_id}: {result.status} — {detail}",
                file=sys.stderr,
                flush=True,
            )

        async with ChatClient.from_settings(settings, factory) as client:
            results = await review_jobs_now(factory, client, settings, ids, progress=progress)
        async with factory() as db:
            from sqlalchemy import func, select

            from observatory.db.models import Review

            review_ids = [r.review_id for r in results if r.review_id]
            if review_ids:
                cost = await db.scalar(
                    select(func.coalesce(func.sum(Review.cost), 0)).where(Review.id.in_(review_ids))
                ) or Decimal(0)
        print(
            f"done: {len(review_ids)} reviewed, {failed} failed, "
            f"{len(ids) - len(results)} left to other workers; AI cost ${cost:.4f}",
            file=sys.stderr,
        )
        return 1 if failed and not review_ids else 0
    finally:
        await engine.dispose()
