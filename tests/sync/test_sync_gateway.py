"""Sync from a local fake gateway (real WebSocket + HTTP on 127.0.0.1): equality with the
store, failures, backoff, the circuit breaker, staleness and catching up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openclaw_fake_gateway import TOKEN, FakeGateway, Faults, load_recorded, serve
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import POLICY, Clock, add_source, count, snapshot, source_row

from observatory.db.enums import CircuitState
from observatory.settings import load_settings
from observatory.sync.openclaw.gateway import GatewayRpc
from observatory.sync.runner import SYNC_LOCK_CLASS, run_forever, sync_once
from observatory.sync.source import SourceAuthError

MAIN = "agent:sofia:main"


@pytest.fixture
async def gateway(fixtures_dir: Path) -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway(load_recorded(fixtures_dir))
    async with serve(fake) as url:
        yield fake, url


def gateway_config(url: str, **extra: Any) -> dict[str, Any]:
    return {"gateway_url": url, "token": TOKEN, "timeout": 2, **extra}


async def sync(engine: AsyncEngine, clock: Clock, **kw: Any) -> Any:
    return await sync_once(engine, load_settings(), policy=POLICY, clock=clock, **kw)


async def test_handshake_and_rpc(gateway: tuple[FakeGateway, str]) -> None:
    _fake, url = gateway
    async with GatewayRpc(url, TOKEN, timeout=2) as rpc:
        assert rpc.hello["type"] == "hello-ok" and rpc.hello["protocol"] == 4
        page = await rpc.call("sessions.list", {"limit": 1, "offset": 0})
        assert page["hasMore"] and page["nextOffset"] == 1 and len(page["sessions"]) == 1
    with pytest.raises(SourceAuthError):
        async with GatewayRpc(url, "wrong-token", timeout=2):
            pass


async def test_gateway_sync_equals_store_sync(
    clean_db: AsyncEngine, fixtures_dir: Path, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    store = await add_source(
        engine, "store", {"store_paths": [str(fixtures_dir / "sqlite" / "openclaw-agent.sqlite")]}
    )
    remote = await add_source(engine, "gateway", gateway_config(url), kind="openclaw-gateway")
    report = await sync(engine, Clock(), force=True)
    assert report.ok, report
    assert {"sessions.list", "sessions.usage", "sessions.usage.timeseries"} <= set(fake.calls)
    a, b = await snapshot(engine, store), await snapshot(engine, remote)

    def hidden(run_id: str) -> bool:
        return run_id.startswith("hidden:")

    # Sessions: kinds, statuses, times, token and cost totals all equal; only the summed
    # duration differs where a rebuilt run lacks its end-of-write time (see below).
    with_rebuilt = {r[0] for r in b["runs"] if hidden(r[1])}
    assert a["sessions"]
    for sa, sb in zip(a["sessions"], b["sessions"], strict=True):
        if sa[0] in with_rebuilt:
            assert sa[:18] == sb[:18] and sa[18] >= sb[18]
        else:
            assert sa == sb

    # Runs: identical, except that a heartbeat turn the history hides is rebuilt from
    # sessions.usage data under a made-up id and without the end-of-write time.
    runs_a = {(r[0], r[5]): r for r in a["runs"]}
    runs_b = {(r[0], r[5]): r for r in b["runs"]}
    assert runs_a.keys() == runs_b.keys()
    rebuilt = 0
    for key, ra in runs_a.items():
        rb = runs_b[key]
        if hidden(rb[1]):
            rebuilt += 1
            assert ra[3] == rb[3] == "heartbeat"
            same = [i for i in range(len(ra)) if i not in (1, 6, 7)]  # id, finished, duration
            assert [ra[i] for i in same] == [rb[i] for i in same]
        else:
            assert ra == rb
    assert rebuilt == 2  # the main session's heartbeat poll and the isolated heartbeat

    # Messages: every visible one is identical in role, seq, ids, times, run and usage.
    msgs_b = {(m[0], m[2]): m for m in b["messages"]}
    compared = 0
    for ma in a["messages"]:
        mb = msgs_b.get((ma[0], ma[2]))
        if mb is None or hidden(mb[6] or ""):
            continue
        compared += 1
        cols = [1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16]  # all but parent id, content
        assert [ma[i] for i in cols] == [mb[i] for i in cols]
    assert compared == 23 - 4  # everything but the two hidden heartbeat turns
    assert len(b["messages"]) == len(a["messages"])


async def test_a_reply_written_between_history_and_timeseries_is_one_run(
    clean_db: AsyncEngine, fixtures_dir: Path, gateway: tuple[FakeGateway, str]
) -> None:
    """A pass reads the history, then the timeseries: a turn written in between shows in the
    timeseries only. It must not become a rebuilt ``hidden:`` run that the next pass then reads
    again as visible (bench_live.py --real saw one turn in 30 counted twice)."""
    fake, url = gateway
    engine = clean_db
    store = await add_source(
        engine, "store", {"store_paths": [str(fixtures_dir / "sqlite" / "openclaw-agent.sqlite")]}
    )
    remote = await add_source(engine, "gateway", gateway_config(url), kind="openclaw-gateway")
    fake.faults.history_misses_newest[MAIN] = 2  # the last turn: its prompt and reply
    assert (await sync(engine, Clock(), force=True)).ok
    async with engine.begin() as conn:  # the next pass reads every session again
        await conn.execute(text("UPDATE sessions SET sync_cursor = sync_cursor - 'fp'"))
    assert (await sync(engine, Clock(), force=True)).ok
    a, b = await snapshot(engine, store), await snapshot(engine, remote)

    def main_runs(snap: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        # run id (a rebuilt one as "hidden"), trigger, started, input and output tokens
        return [
            ("hidden" if r[1].startswith("hidden:") else r[1], r[3], r[5], r[9], r[10])
            for r in snap["runs"]
            if r[0] == MAIN
        ]

    from_store, from_gateway = main_runs(a), main_runs(b)
    assert from_store
    # The store's heartbeat run is the one the gateway rebuilds (its history hides it).
    assert [r[1:] for r in from_gateway] == [r[1:] for r in from_store]
    assert [r[0] for r in from_gateway if r[0] != "hidden"] == [
        r[0] for r in from_store if r[1] != "heartbeat"
    ]


async def test_gateway_resync_is_idempotent(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    src = await add_source(engine, "gw", gateway_config(url))
    await sync(engine, Clock(), force=True)
    first = await snapshot(engine, src)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE sessions SET sync_cursor = sync_cursor - 'fp'"))
    before = fake.history_requests
    await sync(engine, Clock(), force=True)
    assert fake.history_requests > before
    assert await snapshot(engine, src) == first


@pytest.mark.parametrize(
    "fault",
    ["401", "timeout", "503", "mid_page_disconnect", "ws_drop"],
)
async def test_failures_back_off_open_the_circuit_and_catch_up(
    clean_db: AsyncEngine,
    fixtures_dir: Path,
    gateway: tuple[FakeGateway, str],
    fault: str,
) -> None:
    fake, url = gateway
    engine = clean_db
    # the reference: a clean sync of the same data into another source
    ref = await add_source(engine, "reference", gateway_config(url))
    await sync(engine, Clock(), force=True, names=["reference"])
    reference = await snapshot(engine, ref)

    list_page = 2 if fault == "ws_drop" else 200
    src = await add_source(
        engine,
        "flaky",
        gateway_config(url, timeout=0.5, list_page_size=list_page),
        kind="openclaw-gateway",
    )
    fake.faults, expected_error = {
        "401": (Faults(http_status=401), "SourceAuthError: gateway answered 401"),
        "timeout": (Faults(http_delay=1.5), "timed out"),
        "503": (Faults(http_status=503, retry_after="90"), "gateway answered 503"),
        "mid_page_disconnect": (Faults(truncate_history_after_pages=1), "mid-transfer"),
        "ws_drop": (Faults(ws_drop_on_list_offset=True), "gateway closed the connection"),
    }[fault]
    clock = Clock()
    started = clock.now
    for attempt in range(1, POLICY.failure_threshold + 1):
        report = await sync(engine, clock, names=["flaky"])
        [rep] = report.sources
        assert rep.outcome == "failed", rep
        row = await source_row(engine, src)
        assert row.consecutive_failures == attempt
        assert row.last_error and row.last_error_at == clock.now
        assert expected_error in row.last_error
        assert row.last_success_at is None  # stale, and visibly so
        wait = (row.next_attempt_at - clock.now).total_seconds()
        if attempt < POLICY.failure_threshold:
            assert row.circuit_state == CircuitState.CLOSED
            low = POLICY.backoff_base_s * 2 ** (attempt - 1) * 0.5
            assert wait >= (90 if fault == "503" else low)
            # not due yet: the runner does not hammer the gateway
            assert (await sync(engine, clock, names=["flaky"])).sources[0].outcome == "not_due"
        else:
            assert row.circuit_state == CircuitState.OPEN
            assert row.circuit_opened_at == clock.now
            assert wait >= POLICY.cooldown_s
        clock.now = row.next_attempt_at
    # the gateway recovers: the half-open probe succeeds and the circuit closes
    fake.faults = Faults()
    report = await sync(engine, clock, names=["flaky"])
    assert report.ok, report
    row = await source_row(engine, src)
    assert row.circuit_state == CircuitState.CLOSED and row.consecutive_failures == 0
    assert row.last_success_at == clock.now > started
    assert row.last_error  # kept, with its time, for the record
    # nothing lost, nothing twice: the same rows as the clean reference
    assert await snapshot(engine, src) == reference


async def test_half_open_probe_failure_reopens(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    src = await add_source(engine, "gw", gateway_config(url))
    fake.faults = Faults(ws_reject_token=True)
    clock = Clock()
    for _ in range(POLICY.failure_threshold):
        await sync(engine, clock)
        clock.now = (await source_row(engine, src)).next_attempt_at
    assert (await source_row(engine, src)).circuit_state == CircuitState.OPEN
    report = await sync(engine, clock)  # the probe
    assert report.sources[0].outcome == "failed"
    row = await source_row(engine, src)
    assert row.circuit_state == CircuitState.OPEN and row.circuit_opened_at == clock.now
    assert "token" in row.last_error


async def test_partial_pass_then_catch_up(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    ref = await add_source(engine, "reference", gateway_config(url))
    await sync(engine, Clock(), force=True, names=["reference"])
    reference = await snapshot(engine, ref)
    src = await add_source(engine, "flaky", gateway_config(url))
    # Two sessions, then a cut page: three reads, because the isolated heartbeat session (the
    # second) shows only calls newer than its visible history, which is then read twice.
    fake.faults = Faults(truncate_history_after_pages=3)
    report = await sync(engine, Clock(), force=True, names=["flaky"])
    assert report.sources[0].outcome == "failed"
    assert await count(engine, "SELECT count(*) FROM sessions WHERE source_id = :s", s=src) == 2
    fake.faults = Faults()
    assert (await sync(engine, Clock(), force=True, names=["flaky"])).ok
    assert await snapshot(engine, src) == reference


async def test_a_locked_source_is_skipped(
    clean_db: AsyncEngine, engine: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    _fake, url = gateway
    src = await add_source(clean_db, "gw", gateway_config(url))
    async with engine.connect() as other:
        await other.execute(select(func.pg_advisory_lock(SYNC_LOCK_CLASS, src)))
        report = await sync(clean_db, Clock(), force=True)
        assert report.sources[0].outcome == "busy"
        await other.execute(select(func.pg_advisory_unlock(SYNC_LOCK_CLASS, src)))
        await other.commit()
    assert (await sync(clean_db, Clock(), force=True)).sources[0].outcome == "ok"


async def test_progress_and_run_forever(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    _fake, url = gateway
    engine = clean_db
    await add_source(engine, "gw", gateway_config(url))
    seen: list[Any] = []
    await sync(engine, Clock(), force=True, progress=seen.append)
    assert [p.done for p in seen] == [1, 2, 3, 4] and seen[-1].messages == 23

    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, runs, sessions RESTART IDENTITY CASCADE"))
        await conn.execute(text("UPDATE sync_sources SET next_attempt_at = NULL"))
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(engine, stop, load_settings(), policy=POLICY))
    for _ in range(200):
        if await count(engine, "SELECT count(*) FROM sessions") == 4:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    row = await count(
        engine,
        "SELECT count(*) FROM sync_sources WHERE last_success_at IS NOT NULL "
        "AND next_attempt_at > last_success_at + make_interval(secs => 29)",
    )
    assert row == 1
    assert timedelta(seconds=POLICY.interval_s).total_seconds() == 30


async def test_live_session_grows_across_passes(
    clean_db: AsyncEngine, fixtures_dir: Path, gateway: tuple[FakeGateway, str]
) -> None:
    """The main session seen mid-way (running) twice, then finished: paging back over a
    cursor, the hidden heartbeat rebuilt across passes, and the same rows in the end."""
    fake, url = gateway
    engine = clean_db
    ref = await add_source(engine, "reference", gateway_config(url, history_page_size=2))
    await sync(engine, Clock(), force=True, names=["reference"])
    reference = await snapshot(engine, ref)

    rec = fake.recorded
    full_items = rec.history[MAIN]
    full_points = rec.timeseries[MAIN]["points"]
    full_logs = rec.logs[MAIN]["logs"]
    usage = rec.usage
    row = next(r for r in rec.sessions_list["sessions"] if r["key"] == MAIN)
    final_row = dict(row)
    src = await add_source(engine, "live", gateway_config(url, history_page_size=2))
    rec.usage = {"sessions": []}  # no usage summary: hidden turns are looked for every time
    for upto_ms in (1795570658000, 1795570700000):  # mid-announce run, after the heartbeat
        rec.history[MAIN] = [i for i in full_items if i["timestamp"] <= upto_ms]
        rec.timeseries[MAIN] = {
            **rec.timeseries[MAIN],
            "points": [p for p in full_points if p["timestamp"] <= upto_ms],
        }
        rec.logs[MAIN] = {"logs": [x for x in full_logs if x["timestamp"] <= upto_ms]}
        row.update(status="running", updatedAt=upto_ms)
        assert (await sync(engine, Clock(), force=True, names=["live"])).ok
    async with engine.connect() as conn:
        status = (
            await conn.execute(
                text("SELECT status FROM sessions WHERE source_id = :s AND key = :k"),
                {"s": src, "k": MAIN},
            )
        ).scalar_one()
    assert status == "running"
    rec.history[MAIN], rec.usage = full_items, usage
    rec.timeseries[MAIN]["points"], rec.logs[MAIN] = full_points, {"logs": full_logs}
    row.clear()
    row.update(final_row)
    assert (await sync(engine, Clock(), force=True, names=["live"])).ok
    assert await snapshot(engine, src) == reference


async def test_usage_asks_for_every_agent(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    # Without agentScope "all" the real gateway covers only its default agent (recorded
    # real/gateway/sessions.usage.json): the other agents' hidden turns would go unchecked.
    fake, url = gateway
    await add_source(clean_db, "gw", gateway_config(url))
    assert (await sync(clean_db, Clock(), force=True)).ok
    asked = [p for method, p in fake.params if method == "sessions.usage"]
    assert asked, fake.calls
    for params in asked:
        assert params["agentScope"] == "all" and params["range"] == "all"
        assert params["limit"] >= len(fake.recorded.sessions_list["sessions"])


@pytest.mark.parametrize("cold_answers", [2, 1_000])
async def test_a_cold_usage_cache_loses_no_run(
    clean_db: AsyncEngine,
    fixtures_dir: Path,
    gateway: tuple[FakeGateway, str],
    monkeypatch: pytest.MonkeyPatch,
    cold_answers: int,
) -> None:
    # The first sessions.usage after activity answers "refreshing" with stale (here: no)
    # numbers. Briefly cold: wait for the fresh answer. Cold for good: check every session's
    # timeseries instead. Either way the runs equal those of a warm cache.
    from observatory.sync.openclaw import remote

    monkeypatch.setattr(remote, "USAGE_FRESH_WAIT_S", 0.3)
    monkeypatch.setattr(remote, "USAGE_RETRY_S", 0.05)
    fake, url = gateway
    warm = await add_source(clean_db, "warm", gateway_config(url))
    assert (await sync(clean_db, Clock(), force=True)).ok
    fake.faults.usage_cold_answers = cold_answers
    cold = await add_source(clean_db, "cold", gateway_config(url))
    async with clean_db.begin() as conn:
        await conn.execute(
            text("UPDATE sync_sources SET enabled = false WHERE id = :id"), {"id": warm}
        )
    before = len(fake.calls)
    assert (await sync(clean_db, Clock(), force=True)).ok
    usage_calls = fake.calls[before:].count("sessions.usage")
    if cold_answers == 2:
        assert usage_calls == 3  # two cold answers, then the fresh one
    else:
        assert usage_calls >= 2
    a, b = await snapshot(clean_db, warm), await snapshot(clean_db, cold)
    assert a["runs"], "the warm sync made no runs"
    assert [r[:1] + r[2:] for r in b["runs"]] == [r[:1] + r[2:] for r in a["runs"]]
