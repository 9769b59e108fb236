from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.cli import build_parser
from observatory.db.models import Review, ReviewJob
from observatory.review.cli import _review, parse_since
from observatory.settings import Settings
from tests.review.data import Builder, simple_transcript
from tests.review.stub_model import StubModel


def test_parse_since() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("12h", now=now) == now - timedelta(hours=12)
    assert parse_since("2026-11-01T00:00:00") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("last week")


def test_registered_on_the_main_parser() -> None:
    args = build_parser().parse_args(["review", "--ai", "--since", "3d", "--agent", "sofia"])
    assert args.agent == "sofia" and args.since.tzinfo is not None


async def test_backfill_reviews_with_progress(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stub: StubModel,
    rdb_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    async with factory() as db, db.begin():
        b = Builder(db)
        for agent in ("sofia", "sofia", "atlas"):
            sid = await b.session(agent, started=now - timedelta(days=1))
            await b.messages(sid, simple_transcript())
        await b.session("sofia", started=now - timedelta(days=20))  # too old
    args = build_parser().parse_args(["review", "--ai", "--since", "7d", "--agent", "sofia"])
    dry = build_parser().parse_args(["review", "--ai", "--agent", "sofia", "--dry-run"])
    assert await _review(dry, settings, rdb_url) == 0
    assert "2 targets" in capsys.readouterr().err
    assert await _review(args, settings, rdb_url) == 0
    err = capsys.readouterr().err
    assert "[1/2]" in err and "[2/2]" in err and "2 reviewed, 0 failed" in err
    assert "AI cost $0.0090" in err
    async with factory() as db:
        assert await db.scalar(select(func.count()).select_from(Review)) == 2
        assert await db.scalar(select(func.count()).select_from(ReviewJob)) == 2
