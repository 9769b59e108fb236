"""Push-driven sync: store files watched, gateway session events followed, and the bad input
of both (unknown events, unparsable frames, sessions that vanish, files rewritten under the
watcher, dropped sockets) shown in the source's status without losing or doubling a run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from openclaw_fake_gateway import TOKEN, FakeGateway, load_recorded, serve
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import POLICY, add_source, snapshot, source_row

from observatory.settings import load_settings
from observatory.sync.live import LiveSync
from observatory.sync.runner import SYNC_LOCK_CLASS, SourceReport, sync_once, sync_source

MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"
WAIT_S = 20.0  # generous: two cores shared by several test runs


class Passes:
    """Reports of pushed passes, awaited by condition (never by a fixed sleep)."""

    def __init__(self) -> None:
        self.reports: list[SourceReport] = []
        self._changed = asyncio.Condition()

    def __call__(self, report: SourceReport) -> None:
        self.reports.append(report)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[SourceReport], bool]) -> SourceReport:
        start = len(self.reports)

        def found() -> SourceReport | None:
            return next((r for r in self.reports[start:] if predicate(r)), None)

        async with asyncio.timeout(WAIT_S), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        report = found()
        assert report is not None
        return report


@contextlib.asynccontextmanager
async def live(engine: AsyncEngine) -> AsyncIterator[Passes]:
    passes = Passes()
    stop = asyncio.Event()
    runner = LiveSync(engine, policy=POLICY, debounce_s=0.05, on_pass=passes)
    task = asyncio.create_task(runner.run(stop))
    try:
        yield passes
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def ok_rescan(report: SourceReport) -> bool:
    return report.outcome == "ok"


# -- store: file watch --------------------------------------------------------------------------


def _legacy_copy(fixtures_dir: Path, root: Path, *, main_lines: int | None) -> Path:
    """The recorded sessions in the legacy layout, the main transcript cut after main_lines."""
    shutil.copy(fixtures_dir / "sessions.json", root / "sessions.json")
    shutil.copytree(fixtures_dir / "transcripts", root / "transcripts")
    path = root / "transcripts" / f"{MAIN_SID}.jsonl"
    if main_lines is not None:
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:main_lines]))
    return path


async def _reference(engine: AsyncEngine, fixtures_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """What one plain pass over the complete recordings stores (rows of its own source)."""
    root = tmp_path / "reference"
    root.mkdir()
    _legacy_copy(fixtures_dir, root, main_lines=None)
    src = await add_source(
        engine,
        "reference",
        {
            "sessions_json": str(root / "sessions.json"),
            "transcripts_dir": str(root / "transcripts"),
        },
        kind="openclaw-store",
    )
    report = await sync_once(
        engine, load_settings(), policy=POLICY, force=True, names=["reference"]
    )
    assert report.ok, report
    snap = await snapshot(engine, src)
    await disable(engine, src)  # only the source under test is watched
    return {k: v for k, v in snap.items() if k != "agents"}


async def disable(engine: AsyncEngine, source_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE sync_sources SET enabled = false WHERE id = :i"), {"i": source_id}
        )


async def test_store_write_is_synced_at_once(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    engine = clean_db
    reference = await _reference(engine, fixtures_dir, tmp_path)
    root = tmp_path / "watched"
    root.mkdir()
    path = _legacy_copy(fixtures_dir, root, main_lines=20)
    src = await add_source(
        engine,
        "watched",
        {
            "sessions_json": str(root / "sessions.json"),
            "transcripts_dir": str(root / "transcripts"),
        },
        kind="openclaw-store",
    )
    async with live(engine) as passes:
        first = await passes.wait_for(ok_rescan)  # the catch-up pass on start
        assert first.sessions_synced == 4
        # The agent writes the rest of the turn: appended lines, no sessions.json change.
        rest = (fixtures_dir / "transcripts" / f"{MAIN_SID}.jsonl").read_text().splitlines(True)
        with path.open("a") as f:
            f.write("".join(rest[20:]))
        grown = await passes.wait_for(lambda r: r.outcome == "ok" and r.sessions_synced >= 1)
        assert grown.error is None
    snap = await snapshot(engine, src)
    assert {k: v for k, v in snap.items() if k != "agents"} == reference


async def test_store_file_rewritten_under_the_watcher(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    """The SQLite store replaced by a copy of itself (a restore, `doctor --fix`): the watcher
    sees it, the pass reads it again and no run is lost or doubled."""
    engine = clean_db
    agent_dir = tmp_path / "agents" / "sofia" / "agent"
    agent_dir.mkdir(parents=True)
    store = agent_dir / "openclaw-agent.sqlite"
    shutil.copy(fixtures_dir / "sqlite" / "openclaw-agent.sqlite", store)
    src = await add_source(engine, "rewritten", {"state_dir": str(tmp_path)})
    async with live(engine) as passes:
        await passes.wait_for(ok_rescan)
        before = await snapshot(engine, src)
        assert before["runs"]
        # Half a file first (a copy caught mid-write), then the whole one, renamed into place.
        data = (fixtures_dir / "sqlite" / "openclaw-agent.sqlite").read_bytes()
        partial = agent_dir / "partial.tmp"
        partial.write_bytes(data[: len(data) // 2])
        os.replace(partial, store)
        await passes.wait_for(lambda r: r.outcome == "failed")
        row = await source_row(engine, src)
        assert row.last_error and row.consecutive_failures >= 1
        whole = agent_dir / "whole.tmp"
        whole.write_bytes(data)
        os.replace(whole, store)
        await passes.wait_for(ok_rescan)
    after = await snapshot(engine, src)
    assert after["runs"] == before["runs"]
    assert after["messages"] == before["messages"]


# -- gateway: session events --------------------------------------------------------------------


@pytest.fixture
async def gateway(fixtures_dir: Path) -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway(load_recorded(fixtures_dir))
    async with serve(fake) as url:
        yield fake, url


def gateway_config(url: str) -> dict[str, Any]:
    return {"gateway_url": url, "token": TOKEN, "timeout": 2}


def _cut_main(fake: FakeGateway, upto_ms: int) -> dict[str, Any]:
    """Show the main session as it was at ``upto_ms``; returns what restores the full view."""
    rec = fake.recorded
    full = {
        "history": rec.history[MAIN],
        "points": rec.timeseries[MAIN]["points"],
        "logs": rec.logs[MAIN],
        "usage": rec.usage,
    }
    rec.history[MAIN] = [i for i in full["history"] if i["timestamp"] <= upto_ms]
    rec.timeseries[MAIN] = {
        **rec.timeseries[MAIN],
        "points": [p for p in full["points"] if p["timestamp"] <= upto_ms],
    }
    rec.logs[MAIN] = {"logs": [x for x in full["logs"]["logs"] if x["timestamp"] <= upto_ms]}
    rec.usage = {"sessions": []}
    return full


def _restore_main(fake: FakeGateway, full: dict[str, Any]) -> None:
    rec = fake.recorded
    rec.history[MAIN], rec.usage, rec.logs[MAIN] = full["history"], full["usage"], full["logs"]
    rec.timeseries[MAIN] = {**rec.timeseries[MAIN], "points": full["points"]}


def _main_row(fake: FakeGateway) -> dict[str, Any]:
    return next(r for r in fake.recorded.sessions_list["sessions"] if r["key"] == MAIN)


async def test_gateway_event_syncs_just_that_session(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    ref = await add_source(engine, "reference", gateway_config(url))
    assert (
        await sync_once(engine, load_settings(), policy=POLICY, force=True, names=["reference"])
    ).ok
    reference = await snapshot(engine, ref)

    full = _cut_main(fake, 1795570700000)  # after the heartbeat, before the compaction
    src = await add_source(engine, "live", gateway_config(url))
    await disable(engine, ref)  # only the live source is watched
    async with live(engine) as passes:
        await passes.wait_for(ok_rescan)
        _restore_main(fake, full)
        fake.history_requests = 0
        fake.calls.clear()
        await fake.emit(
            "sessions.changed",
            {"sessionKey": MAIN, "agentId": "sofia", "reason": "run", "phase": "end"},
        )
        report = await passes.wait_for(lambda r: r.sessions_synced == 1)
        assert report.outcome == "ok" and report.sessions_listed == 1
        # Just that session: described, its history read, no listing of the whole gateway.
        assert "sessions.describe" in fake.calls and "sessions.list" not in fake.calls
        assert fake.history_requests == 1
    snap = await snapshot(engine, src)
    assert snap["runs"] == reference["runs"]
    assert snap["messages"] == reference["messages"]


async def test_gateway_bad_input_is_shown_never_fatal(
    clean_db: AsyncEngine, gateway: tuple[FakeGateway, str]
) -> None:
    fake, url = gateway
    engine = clean_db
    src = await add_source(engine, "live", gateway_config(url))
    async with live(engine) as passes:
        await passes.wait_for(ok_rescan)
        baseline = await snapshot(engine, src)
        assert baseline["runs"]

        # 1. An event the gateway never advertised: ignored, shown once.
        await fake.emit("sessions.teleported", {"sessionKey": MAIN})
        await fake.emit("sessions.changed", {"sessionKey": MAIN, "phase": "end"})
        await passes.wait_for(lambda r: r.sessions_synced == 1)
        row = await source_row(engine, src)
        assert "unknown gateway event sessions.teleported" in row.last_error

        # 2. A truncated frame: shown, and a rescan in case it carried a change.
        await fake.send_raw('{"type": "event", "event": "sessions.changed", "payl')
        await passes.wait_for(lambda r: r.outcome == "ok" and r.sessions_listed == 4)
        row = await source_row(engine, src)
        assert "unparsable gateway frame" in row.last_error

        # 3. A session that is gone by the time it is read: shown, nothing pruned or added.
        await fake.emit("sessions.changed", {"sessionKey": "agent:sofia:gone", "reason": "delete"})
        vanished = await passes.wait_for(lambda r: bool(r.vanished))
        assert vanished.outcome == "ok" and vanished.vanished == ["agent:sofia:gone"]
        row = await source_row(engine, src)
        assert "vanished" in row.last_error and row.consecutive_failures == 0

        # 4. The socket drops: shown, reconnected with backoff, caught up with a rescan.
        await fake.drop_subscribers()
        await passes.wait_for(lambda r: r.outcome == "ok" and r.sessions_listed == 4)
        assert fake.subscribed.is_set()
        row = await source_row(engine, src)
        assert "reconnecting" in row.last_error

    assert await snapshot(engine, src) == baseline  # no run lost, none doubled
    assert json.dumps(baseline, default=str)  # rows are plain values


async def test_legacy_transcript_rewritten_under_the_watcher(
    clean_db: AsyncEngine, fixtures_dir: Path, tmp_path: Path
) -> None:
    """A transcript rewritten in place (same events, other byte layout) after part of it was
    read: our byte offset no longer starts a line, so it is read again from the top."""
    engine = clean_db
    reference = await _reference(engine, fixtures_dir, tmp_path)
    root = tmp_path / "watched"
    root.mkdir()
    path = _legacy_copy(fixtures_dir, root, main_lines=20)
    src = await add_source(
        engine,
        "watched",
        {
            "sessions_json": str(root / "sessions.json"),
            "transcripts_dir": str(root / "transcripts"),
        },
        kind="openclaw-store",
    )
    async with live(engine) as passes:
        await passes.wait_for(ok_rescan)
        lines = (fixtures_dir / "transcripts" / f"{MAIN_SID}.jsonl").read_text().splitlines()
        spaced = "".join(
            json.dumps(json.loads(line), indent=None, separators=(", ", ": ")) + "\n"
            for line in lines
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_text(spaced)
        os.replace(tmp, path)
        report = await passes.wait_for(lambda r: r.outcome == "ok" and r.sessions_synced >= 1)
        assert report.error is None
    snap = await snapshot(engine, src)
    assert snap["runs"] == reference["runs"]
    assert [m[:8] + m[9:] for m in snap["messages"]] == [
        m[:8] + m[9:] for m in reference["messages"]
    ]


async def test_pushed_pass_waits_for_a_running_pass(
    clean_db: AsyncEngine, fixtures_dir: Path
) -> None:
    """Never two passes of a source at once: a pushed pass waits for the lock a full pass
    holds (here: another connection), then runs; past its wait it reports busy."""
    engine = clean_db
    src = await add_source(
        engine, "store", {"store_paths": [str(fixtures_dir / "sqlite" / "openclaw-agent.sqlite")]}
    )
    async with engine.connect() as holder:
        await holder.execute(
            text("SELECT pg_advisory_lock(:c, :s)"), {"c": SYNC_LOCK_CLASS, "s": src}
        )
        await holder.commit()
        busy = await sync_source(
            engine, src, policy=POLICY, keys=frozenset({MAIN}), pushed=True, lock_wait_s=0.2
        )
        assert busy.outcome == "busy"
        waiting = asyncio.create_task(
            sync_source(
                engine, src, policy=POLICY, keys=frozenset({MAIN}), pushed=True, lock_wait_s=20
            )
        )
        for _ in range(int(WAIT_S / 0.02)):  # condition wait: the pass is queued on the lock
            if await _lock_waiters(engine):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the pushed pass never waited for the lock")
        assert not waiting.done()
        await holder.execute(
            text("SELECT pg_advisory_unlock(:c, :s)"), {"c": SYNC_LOCK_CLASS, "s": src}
        )
        await holder.commit()
        report = await waiting
    assert report.outcome == "ok" and report.sessions_synced == 1 and report.sessions_listed == 1
    row = await source_row(engine, src)
    assert row.last_success_at is None  # one session read: the source as a whole is not fresher


async def _lock_waiters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            ).scalar_one()
        )
