from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.improve.suggestions import (
    NotApplied,
    SuggestionNotFound,
    generate_suggestions,
    get_suggestion,
    list_suggestions,
    mark_suggestion_applied,
    set_suggestion_status,
    suggestion_impact,
)
from tests.improve.generate import ALL, T0, WINDOW, B, Plant, generate

EXPECTED = {
    ("recurring_error", "nova", "task_execution"),
    ("failure_terms", None, "task_execution"),
    ("idle_heartbeats", "nova", "heartbeat_prompt"),
    ("stalled_tasks", "sofia", "task_execution"),
    ("missed_cadence", "sofia", "heartbeat_config"),
    ("regression", "atlas", "task_execution"),  # cost per successful session
    ("regression", "atlas", "heartbeat_prompt"),  # heartbeat cost
}


async def test_rules_turn_planted_patterns_into_suggestions_with_evidence(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        await generate(db, ALL)
    async with factory() as db, db.begin():
        made = await generate_suggestions(db, since=B[0], until=B[1], now=T0)
    assert {(s.rule, s.agent_id, s.target) for s in made} == EXPECTED
    by_rule = {(s.rule, s.target): s for s in made}
    err = by_rule[("recurring_error", "task_execution")]
    assert "missing file" in err.title.lower() and "AGENTS.md" in err.body
    assert err.evidence["sessions"] == 12 and len(err.evidence["session_ids"]) == 12
    assert err.target_metrics == ["failure_rate", "success_rate"]
    idle = by_rule[("idle_heartbeats", "heartbeat_prompt")]
    assert idle.evidence["run_ids"] and "HEARTBEAT_OK" in idle.body
    hb = by_rule[("regression", "heartbeat_prompt")]
    assert hb.target_metrics == ["heartbeat_cost"] and "+" in hb.title

    # Seeing the same findings again refreshes them instead of adding copies; a dismissed
    # suggestion stays dismissed.
    async with factory() as db, db.begin():
        await set_suggestion_status(db, idle.id, "dismissed", note="we like our heartbeats")
        again = await generate_suggestions(db, since=B[0], until=B[1], now=T0)
        listed = await list_suggestions(db)
        dismissed = await list_suggestions(db, status="dismissed")
    assert len(listed) == len(EXPECTED)
    assert {s.id for s in again} == {s.id for s in made}
    assert {s.seen_count for s in again if s.id != idle.id} == {2}
    assert [s.id for s in dismissed] == [idle.id] and dismissed[0].note == "we like our heartbeats"


async def test_nothing_to_suggest_on_clean_data(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await generate(db, Plant())
    async with factory() as db, db.begin():
        assert await generate_suggestions(db, since=B[0], until=B[1], now=T0) == []


async def test_applied_suggestion_shows_its_before_after_comparison(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        await generate(db, Plant(cost_regression=True))
    async with factory() as db, db.begin():
        [hb] = [
            s
            for s in await generate_suggestions(db, since=B[0], until=B[1], now=T0)
            if s.target_metrics == ["heartbeat_cost"]
        ]
        with pytest.raises(NotApplied):
            await suggestion_impact(db, hb.id)
        # Say someone "applied" it when atlas' costs doubled: the comparison shows that.
        applied = await mark_suggestion_applied(db, hb.id, applied_at=B[0], note="new model")
        impact = await suggestion_impact(db, hb.id, window=WINDOW, now=T0)
        partial = await suggestion_impact(db, hb.id, window=WINDOW, now=B[0] + timedelta(days=3))
        not_yet = await suggestion_impact(db, hb.id, window=WINDOW, now=B[0])
        with pytest.raises(SuggestionNotFound):
            await get_suggestion(db, 999)
    assert applied.status == "applied" and applied.applied_at == B[0]
    assert impact.complete and impact.before.end == impact.after.start == B[0]
    [m] = impact.metrics
    assert m.metric == "heartbeat_cost" and m.change == "worse" and m.n_b > 100
    assert not partial.complete and partial.after.end == B[0] + timedelta(days=3)
    assert not_yet.metrics == [] and not not_yet.complete
    assert 30 < partial.metrics[0].n_b < 40  # three days of two-hourly heartbeats
