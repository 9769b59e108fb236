from __future__ import annotations

import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.improve.compare import Window, compare_periods
from tests.improve.generate import ALL, A, B, Plant, generate


async def _significant(
    factory: async_sessionmaker[AsyncSession], plant: Plant
) -> set[tuple[str | None, str, str | None]]:
    async with factory() as db, db.begin():
        await generate(db, plant)
    async with factory() as db:
        started = time.perf_counter()
        result = await compare_periods(db, Window(*A), Window(*B), group_by="agent")
        assert time.perf_counter() - started < 5
    assert {g.group for g in result.groups} == {"atlas", "nova", "sofia"}
    assert result.tests > 15
    return {(g, m.metric, m.change) for g, m in result.significant()}


async def test_finds_the_planted_cost_regression_and_nothing_else(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    found = await _significant(factory, ALL)
    assert found == {
        ("atlas", "cost_per_success", "worse"),
        ("atlas", "heartbeat_cost", "worse"),
    }


async def test_finds_nothing_on_clean_data(factory: async_sessionmaker[AsyncSession]) -> None:
    assert await _significant(factory, Plant()) == set()


async def test_metric_values_and_grouping(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        await generate(db, Plant(cost_regression=True))
    async with factory() as db:
        overall = await compare_periods(db, Window(*A), Window(*B))
        atlas = await compare_periods(
            db, Window(*A), Window(*B), agent_id="atlas", metrics=["heartbeat_cost", "failure_rate"]
        )
        by_trigger = await compare_periods(db, Window(*A), Window(*B), group_by="trigger")
        with pytest.raises(ValueError):
            await compare_periods(db, Window(*A), Window(*B), group_by="colour")
        with pytest.raises(ValueError):
            await compare_periods(db, Window(*A), Window(*B), metrics=["happiness"])
    assert [g.group for g in overall.groups] == [None]
    metrics = {m.metric: m for m in overall.groups[0].metrics}
    assert set(metrics) == {
        "success_rate", "failure_rate", "cost_per_success", "tokens_per_completed_task",
        "ttc_p50", "ttc_p95", "heartbeat_cost",
    }  # fmt: skip
    fr = metrics["failure_rate"]
    assert fr.events_a == fr.events_b == 36  # 12 failed tasks per agent and window
    assert fr.n_a and fr.a == pytest.approx(36 / fr.n_a)
    hb = {m.metric: m for m in atlas.groups[0].metrics}["heartbeat_cost"]
    assert hb.relative_delta == pytest.approx(1.0, abs=0.1) and hb.change == "worse"
    assert hb.ci_low is not None and hb.ci_low > 0
    assert {g.group for g in by_trigger.groups} >= {"heartbeat", "spawn"}
