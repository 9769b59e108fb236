"""Rule evaluation: thresholds with minimum samples, hysteresis, silences, one evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.alerts.engine import evaluate
from observatory.alerts.models import Alert, AlertRule, AlertRuleKind, AlertSilence, AlertState
from observatory.outbox.models import OutboxDelivery, WebhookEndpoint
from tests.review.data import Builder

NOW = datetime.now(UTC).replace(microsecond=0)


async def _rule(db: AsyncSession, kind: AlertRuleKind, threshold: str, **kw: object) -> int:
    rule = AlertRule(name=kind.value, kind=kind, threshold=Decimal(threshold), **kw)
    db.add(rule)
    await db.flush()
    return rule.id


async def _runs(b: Builder, agent: str, failed: int, ok: int, at: datetime) -> None:
    sid = await b.session(agent, started=at - timedelta(minutes=5))
    for i in range(failed + ok):
        await b.run(sid, agent, status="failed" if i < failed else "completed", started=at)


async def _alerts(db: AsyncSession) -> list[Alert]:
    return list((await db.scalars(select(Alert).order_by(Alert.id))).all())


async def test_failure_rate_fires_with_min_sample_and_resolves_with_hysteresis(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        db.add(WebhookEndpoint(name="hook", url="http://127.0.0.1:9/"))
        b = Builder(db)
        await _rule(db, AlertRuleKind.FAILURE_RATE, "0.5", window_s=3600, min_sample=4)
        await _runs(b, "sofia", failed=2, ok=0, at=NOW - timedelta(minutes=10))  # 2 < min 4
        await _runs(b, "max", failed=1, ok=3, at=NOW - timedelta(minutes=10))  # 25%
        assert (await evaluate(db, NOW)).fired == []

        await _runs(b, "sofia", failed=2, ok=0, at=NOW - timedelta(minutes=5))  # 4 of 4
        result = await evaluate(db, NOW)
        assert len(result.fired) == 1
        (alert,) = await _alerts(db)
        assert alert.subject == "agent:sofia" and alert.value == 1.0

        # 4 failed of 9 = 44%: under the 50% threshold but above the 40% resolve level.
        await _runs(b, "sofia", failed=0, ok=5, at=NOW - timedelta(minutes=1))
        assert (await evaluate(db, NOW)).resolved == []
        # 4 of 11 = 36%: below 0.5 * 0.8 -> resolved.
        await _runs(b, "sofia", failed=0, ok=2, at=NOW - timedelta(minutes=1))
        assert (await evaluate(db, NOW)).resolved == [alert.id]
        await db.refresh(alert)
        assert alert.state is AlertState.RESOLVED
        keys = list(await db.scalars(select(OutboxDelivery.idempotency_key)))
        assert sorted(keys) == [f"alert:{alert.id}:firing", f"alert:{alert.id}:resolved"]


async def test_silenced_alerts_are_recorded_but_not_delivered(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        db.add(WebhookEndpoint(name="hook", url="http://127.0.0.1:9/"))
        b = Builder(db)
        rule_id = await _rule(db, AlertRuleKind.FAILURE_RATE, "0.5", min_sample=2)
        hour = timedelta(hours=1)
        db.add(
            AlertSilence(
                rule_id=rule_id, agent_id="sofia", starts_at=NOW - hour, ends_at=NOW + hour
            )
        )
        await _runs(b, "sofia", failed=2, ok=0, at=NOW - timedelta(minutes=5))
        await _runs(b, "max", failed=2, ok=0, at=NOW - timedelta(minutes=5))
        assert len((await evaluate(db, NOW)).fired) == 2
        by_agent = {a.agent_id: a for a in await _alerts(db)}
        assert by_agent["sofia"].silenced and not by_agent["max"].silenced
        keys = list(await db.scalars(select(OutboxDelivery.idempotency_key)))
        assert keys == [f"alert:{by_agent['max'].id}:firing"]

        # Switching the rule off resolves its firing alerts (only the unsilenced one is sent).
        await db.execute(text("UPDATE alert_rules SET enabled = false"))
        assert sorted((await evaluate(db, NOW)).resolved) == sorted(a.id for a in by_agent.values())
        keys = list(await db.scalars(select(OutboxDelivery.idempotency_key)))
        assert sorted(keys) == [f"alert:{by_agent['max'].id}:{s}" for s in ("firing", "resolved")]


async def test_one_evaluator_at_a_time(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as first, first.begin():
        assert (await evaluate(first, NOW)).evaluated
        async with factory() as second, second.begin():
            assert not (await evaluate(second, NOW)).evaluated


async def test_heartbeat_missed_and_task_stalled(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        main = await b.session(
            "sofia", kind="main", status="running", started=NOW - timedelta(days=1)
        )
        for i in range(8):  # every 30 min, the last one 3 h ago
            beat = NOW - timedelta(hours=3) - timedelta(minutes=30 * (7 - i))
            await b.run(main, "sofia", trigger="heartbeat", started=beat)
        await b.session("sofia", kind="task", status="running", started=NOW - timedelta(hours=2))
        await _rule(db, AlertRuleKind.HEARTBEAT_MISSED, "3", window_s=86400, min_sample=5)
        await _rule(db, AlertRuleKind.TASK_STALLED, "60")
        await evaluate(db, NOW)
        alerts = {a.subject: a for a in await _alerts(db)}
        beat_alert = alerts[f"session:{main}"]
        assert beat_alert.value == pytest.approx(6.0)  # 180 min silent / 30 min cadence
        assert "silent for 180 min" in beat_alert.message
        stalled = [a for a in alerts.values() if a.subject != f"session:{main}"]
        assert len(stalled) == 1 and stalled[0].value >= 60

        await b.run(main, "sofia", trigger="heartbeat", started=NOW - timedelta(minutes=1))
        result = await evaluate(db, NOW)
        assert result.resolved == [beat_alert.id]


async def test_daily_cost_and_disagreement(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as db, db.begin():
        b = Builder(db)
        day = NOW.replace(hour=0, minute=0, second=0)
        sid = await b.session("sofia", started=day)
        for _ in range(3):
            await b.run(sid, "sofia", started=day + timedelta(seconds=1), cost=Decimal("2.50"))
        await b.run(
            sid, "sofia", started=day - timedelta(hours=1), cost=Decimal("100")
        )  # yesterday
        await b.run(sid, "sofia", started=day + timedelta(seconds=2), cost=None)  # unknown cost
        for verdict_h, verdict_ai in [("accomplished", "failed"), ("failed", "failed")]:
            target = await b.session("sofia", started=day)
            for kind, verdict in (("human", verdict_h), ("ai", verdict_ai)):
                await db.execute(
                    text(
                        "INSERT INTO reviews (session_id, verdict, rating, summary, reviewer_kind,"
                        " created_at) VALUES (:s, :v, 3, '', :k, :at)"
                    ),
                    {"s": target, "v": verdict, "k": kind, "at": NOW - timedelta(minutes=1)},
                )
        await _rule(db, AlertRuleKind.DAILY_COST, "5")
        await _rule(db, AlertRuleKind.DISAGREEMENT, "0.5", min_sample=2)
        await evaluate(db, NOW)
        values = {(a.rule_id, a.subject): a.value for a in await _alerts(db)}
        assert values == {(1, "agent:sofia"): 7.5, (2, "agent:sofia"): 0.5}


async def test_tool_error_rate_fires_per_agent_and_tool(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    from observatory.db.tool_calls import DERIVE_ALL

    async with factory() as db, db.begin():
        b = Builder(db)
        await _rule(db, AlertRuleKind.TOOL_ERROR_RATE, "0.5", window_s=3600, min_sample=3)
        sid = await b.session("sofia", started=NOW - timedelta(minutes=30))
        rows: list[tuple[str, list[dict[str, object]]]] = []
        # exec: 2 of 3 answered calls fail (and one is still pending); read: 0 of 3.
        for i, (tool, failed) in enumerate(
            [("exec", True), ("exec", True), ("exec", False), ("read", False)] * 1
            + [("read", False), ("read", False)]
        ):
            call = {"type": "tool_call", "id": f"c{i}", "name": tool, "arguments": {}}
            result = {"type": "tool_result", "tool_call_id": f"c{i}", "name": tool,
                      "is_error": failed, "text": "EACCES: /x" if failed else "ok"}  # fmt: skip
            rows += [("assistant", [call]), ("tool_result", [result])]
        pending = {"type": "tool_call", "id": "c-pending", "name": "exec", "arguments": {}}
        rows.append(("assistant", [pending]))
        await b.messages(sid, rows, start=NOW - timedelta(minutes=20))
        await (await db.connection()).exec_driver_sql(DERIVE_ALL)
        result = await evaluate(db, NOW)
        assert len(result.fired) == 1
        (alert,) = await _alerts(db)
        assert alert.subject == "tool:sofia:exec"
        assert alert.value == pytest.approx(2 / 3)
