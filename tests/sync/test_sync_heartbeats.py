"""Heartbeat polls back to back in a main session: the gateway history hides both turns, and
the gateway transport must still give two runs with their own tokens, as the store does."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openclaw_fake_gateway import (
    TOKEN,
    FakeGateway,
    history_from_transcript,
    load_recorded,
    usage_series,
)
from openclaw_fake_gateway import serve as serve_gateway
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_helpers import POLICY, Clock, add_source, snapshot

from observatory.settings import load_settings
from observatory.sync.runner import sync_once

MAIN = "agent:sofia:main"
MAIN_SID = "15b6a2e8-2cda-4488-8add-f7cf4a717fdf"
SECOND_POLL_AFTER_S = 30


def _shift_iso(iso: str, seconds: float) -> str:
    when = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def with_second_heartbeat(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recorded main transcript with a second heartbeat poll right after the first one:
    same shape, new ids and run id, its own (smaller) usage, nothing visible in between."""
    poll = next(
        i
        for i, e in enumerate(events)
        if (e.get("message") or {}).get("provenance", {}).get("sourceTool") == "heartbeat"
    )
    prompt, reply = copy.deepcopy(events[poll]), copy.deepcopy(events[poll + 1])
    assert reply["message"]["role"] == "assistant"
    for event, new_id in ((prompt, "hb2-prompt"), (reply, "hb2-reply")):
        event["id"] = new_id
        event["timestamp"] = _shift_iso(event["timestamp"], SECOND_POLL_AFTER_S)
        event["message"]["timestamp"] += SECOND_POLL_AFTER_S * 1000
    prompt["parentId"] = events[poll + 1]["id"]
    reply["parentId"] = prompt["id"]
    reply["message"]["__openclaw"]["runId"] = "hb2-run"
    usage = reply["message"]["usage"]
    usage.update(input=9_000, output=4, totalTokens=9_004)
    usage["cost"] = {
        "input": 0.027,
        "output": 0.00006,
        "cacheRead": 0,
        "cacheWrite": 0,
        "total": 0.02706,
    }
    rest = copy.deepcopy(events[poll + 2 :])
    rest[0]["parentId"] = reply["id"]
    return [*events[: poll + 2], prompt, reply, *rest]


@pytest.fixture
def two_polls(fixtures_dir: Path, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A legacy-layout copy of the recordings whose main session has two polls back to back."""
    shutil.copy(fixtures_dir / "sessions.json", tmp_path / "sessions.json")
    shutil.copytree(fixtures_dir / "transcripts", tmp_path / "transcripts")
    path = tmp_path / "transcripts" / f"{MAIN_SID}.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    events = with_second_heartbeat(events)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return tmp_path, events


@pytest.fixture
async def gateway(
    fixtures_dir: Path, two_polls: tuple[Path, list[dict[str, Any]]]
) -> AsyncIterator[str]:
    _root, events = two_polls
    rec = load_recorded(fixtures_dir)
    # The main session's shapes are rebuilt from the edited transcript the way the real
    # gateway builds them: history without heartbeat turns, timeseries and logs with them.
    rec.history[MAIN] = history_from_transcript(events)
    rec.timeseries[MAIN], rec.logs[MAIN] = usage_series(events, MAIN_SID)
    entry = next(s for s in rec.usage["sessions"] if s["key"] == MAIN)
    entry["usage"]["messageCounts"]["assistant"] += 1
    async with serve_gateway(FakeGateway(rec)) as url:
        yield url


async def test_back_to_back_heartbeats_stay_two_runs(
    clean_db: AsyncEngine, two_polls: tuple[Path, list[dict[str, Any]]], gateway: str
) -> None:
    root, _events = two_polls
    engine = clean_db
    store = await add_source(
        engine,
        "store",
        {
            "sessions_json": str(root / "sessions.json"),
            "transcripts_dir": str(root / "transcripts"),
        },
    )
    remote = await add_source(
        engine, "gateway", {"gateway_url": gateway, "token": TOKEN, "timeout": 2}
    )
    report = await sync_once(engine, load_settings(), policy=POLICY, clock=Clock(), force=True)
    assert report.ok, report
    a, b = await snapshot(engine, store), await snapshot(engine, remote)

    def heartbeats(snap: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        # started_at, input/output/cache tokens, cost
        return [
            (r[5], r[9], r[10], r[11], r[12], r[13])
            for r in snap["runs"]
            if r[0] == MAIN and r[3] == "heartbeat"
        ]

    from_store, from_gateway = heartbeats(a), heartbeats(b)
    assert len(from_store) == 2
    assert from_gateway == from_store
    assert [r[1] for r in from_gateway] == [10_729, 9_000]
    # The session totals agree too (the runs of the main session sum to the same numbers).
    main_a = next(s for s in a["sessions"] if s[0] == MAIN)
    main_b = next(s for s in b["sessions"] if s[0] == MAIN)
    assert main_a[15:18] == main_b[15:18]  # run_count, total_tokens, total_cost
