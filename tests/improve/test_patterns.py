from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import Session as SessionRow
from observatory.improve.patterns import find_patterns
from observatory.improve.textstats import terms
from tests.improve.generate import ALL, PLANTED_SUMMARY, T0, B, Plant, generate


async def test_finds_exactly_what_was_planted(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await generate(db, ALL)
    async with factory() as db:
        report = await find_patterns(db, since=B[0], until=B[1], now=T0)
        stalled_id = await db.scalar(select(SessionRow.id).where(SessionRow.title == "Long task"))
    [sig] = report.error_signatures
    assert sig.signature == "enoent: no such file or directory, open <str>"
    assert sig.agents == ["nova"] and sig.tools == ["read"]
    assert sig.sessions == sig.failed_sessions == 12  # every failed nova task in window B
    assert sig.occurrences == 24  # the tool error and the run error of each
    assert len(sig.message_ids) == 12 and "settings-" in sig.example
    found_terms = {t.term for t in report.failure_terms}
    assert found_terms and found_terms <= terms(PLANTED_SUMMARY)
    [idle] = report.idle_heartbeats
    assert idle.agent_id == "nova" and idle.idle == idle.heartbeats > 100
    assert idle.idle_cost and idle.idle_cost > 0 and idle.idle_tokens
    [stalled] = report.stalled_tasks
    assert stalled.session_id == stalled_id and stalled.idle_for == timedelta(hours=3)
    [gap] = report.missed_cadence
    assert gap.agent_id == "sofia" and gap.overdue_by and gap.overdue_by > timedelta(hours=9)
    assert abs(gap.expected_interval - timedelta(hours=2)) < timedelta(minutes=15)
    assert 4 <= gap.missed_beats <= 6


async def test_finds_nothing_on_clean_data(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await generate(db, Plant())
    async with factory() as db:
        report = await find_patterns(db, since=B[0], until=B[1], now=T0)
        whole = await find_patterns(db, since=B[0] - timedelta(days=14), until=B[1], now=T0)
    for r in (report, whole):
        assert r.error_signatures == [] and r.failure_terms == [] and r.idle_heartbeats == []
        assert r.stalled_tasks == [] and r.missed_cadence == []


async def test_agent_filter(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await generate(db, ALL)
    async with factory() as db:
        sofia = await find_patterns(db, since=B[0], until=B[1], now=T0, agent_id="sofia")
    assert sofia.error_signatures == [] and sofia.idle_heartbeats == []
    assert len(sofia.stalled_tasks) == 1 and len(sofia.missed_cadence) == 1
