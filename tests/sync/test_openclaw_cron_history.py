"""A cron run read from the real gateway's history equals the run its transcript holds.

Recorded from the real OpenClaw 2026.9.6 (``fixtures/openclaw/real/cron/``): the history
shows the cron prompt as an ``assistant`` entry "Forwarded from observatory-cron", without
its prompt prefix; the transcript has it as the run's ``user`` prompt (issue 9: the gateway
made two runs of the store's one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from observatory.db.enums import MessageRole, RunTrigger, SessionKind
from observatory.sync.openclaw.derive import derive
from observatory.sync.openclaw.events import event_from_history_item, parse_event

CRON = Path(__file__).resolve().parents[1] / "fixtures" / "openclaw" / "real" / "cron"


def _load(name: str) -> Any:
    return json.loads((CRON / name).read_text())


def _history_events() -> list[Any]:
    items = _load("http.history.rex-cron.json")["response"]["messages"]
    converted = [event_from_history_item(item) for item in items]
    assert converted and all(c is not None for c in converted)
    return [parse_event(event, seq) for seq, event in (c for c in converted if c)]


def _store_events() -> list[Any]:
    return [
        parse_event(event, seq) for seq, event in enumerate(_load("store.events.rex-cron.json"))
    ]


def test_the_forwarded_prompt_is_the_runs_user_prompt() -> None:
    events = _history_events()
    prompts = [e for e in events if e.role is MessageRole.USER]
    assert len(prompts) == 1 and prompts[0].source_tool == "cron"
    store_prompt = next(e for e in _store_events() if e.role is MessageRole.USER)
    assert prompts[0].text == store_prompt.text  # the stripped prefix is back
    assert prompts[0].timestamp == store_prompt.timestamp


def test_history_and_store_give_one_identical_cron_run() -> None:
    sid = "cron-session"
    history = derive(_history_events(), sid, kind=SessionKind.CRON, active=False, next_seq=6)
    store = derive(_store_events(), sid, kind=SessionKind.CRON, active=False, next_seq=6)
    assert len(store.runs) == 1
    assert history.runs == store.runs
    (run,) = history.runs
    assert run.trigger is RunTrigger.CRON
    point = _load("sessions.usage.timeseries.rex-cron.json")["response"]["payload"]["points"][0]
    assert run.usage.input_tokens == point["input"] and run.usage.output_tokens == point["output"]
    # Both messages belong to that run.
    assert [m.provider_run_id for m in history.messages] == [run.provider_run_id] * 2
