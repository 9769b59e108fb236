"""The two-agent scenario, driven only through the real ``openclaw`` CLI, and what OpenClaw
itself recorded about it (read straight from its SQLite stores, independent of our parser).

Per agent (``sofia``, ``rex``): a plain turn, a tool turn (``read``), one subagent spawn whose
completion is announced back, then TWO heartbeat polls back to back in the main session (the
second wakes as soon as the first has replied). Then, once: a compaction of sofia's main
session followed by a plain turn, a cron job run for rex (isolated session), and an isolated
heartbeat session for rex (``heartbeat.isolatedSession`` switched on through ``config set``).
Every step waits for its effect in the store, never for a fixed time.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from openclaw_gateway import AGENTS, Gateway, wait_until

from observatory.sync.openclaw.events import decode_row

# Generous: on a shared 2-core machine one CLI turn took 20-120 s (CLI start ~15 s).
STEP_TIMEOUT = 600.0


def store_events(gw: Gateway, agent: str, key: str) -> list[dict[str, Any]]:
    """Every transcript event of every window of ``key``, in order (read-only)."""
    path = gw.store(agent)
    if not path.is_file():
        return []
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT t.event_json, t.event_zstd FROM transcript_events t "
            "JOIN session_windows w ON w.session_id = t.session_id "
            "WHERE w.session_key = ? ORDER BY w.created_at, w.session_id, t.seq",
            (key,),
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # tables not created yet, or briefly locked: the caller polls again
    finally:
        conn.close()
    return [decode_row(a, b) for a, b in rows]


def session_keys(gw: Gateway, agent: str) -> list[str]:
    path = gw.store(agent)
    if not path.is_file():
        return []
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    try:
        return [r[0] for r in conn.execute("SELECT session_key FROM session_nodes ORDER BY 1")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def _messages(events: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [
        e["message"]
        for e in events
        if e.get("type") == "message" and (e.get("message") or {}).get("role") == role
    ]


def heartbeat_polls(events: list[dict[str, Any]]) -> int:
    """Heartbeat prompts OpenClaw wrote into a transcript (provenance ``heartbeat``)."""
    return sum(
        1
        for m in _messages(events, "user")
        if (m.get("provenance") or {}).get("sourceTool") == "heartbeat"
    )


def replies(events: list[dict[str, Any]]) -> int:
    return sum(1 for m in _messages(events, "assistant") if m.get("stopReason") == "stop")


def announces(events: list[dict[str, Any]]) -> int:
    return sum(
        1
        for m in _messages(events, "assistant")
        if str((m.get("__openclaw") or {}).get("runId") or "").startswith("announce:")
    )


@dataclass
class Scenario:
    """What the scenario did, for the assertions."""

    main_keys: dict[str, str] = field(default_factory=dict)
    subagent_keys: list[str] = field(default_factory=list)
    cron_job: str | None = None
    isolated_heartbeat_key: str | None = None
    error: str | None = None


def _agent_turn(gw: Gateway, agent: str, message: str) -> None:
    gw.cli("agent", "--agent", agent, "--message", message, "--json")


def _heartbeat(gw: Gateway, agent: str, key: str, text: str) -> None:
    before = replies(store_events(gw, agent, key))
    polls = heartbeat_polls(store_events(gw, agent, key))
    gw.cli("system", "event", "--text", text, "--mode", "now", "--session-key", key)
    wait_until(
        f"heartbeat reply in {key}",
        lambda: (
            heartbeat_polls(events := store_events(gw, agent, key)) > polls
            and replies(events) > before
        ),
        timeout=STEP_TIMEOUT,
    )


def run(gw: Gateway, sc: Scenario | None = None) -> Scenario:
    """Drive the scenario, filling ``sc`` as it goes (a caller keeps it if a step fails)."""
    sc = sc if sc is not None else Scenario()
    for agent in AGENTS:
        key = f"agent:{agent}:main"
        sc.main_keys[agent] = key
        _agent_turn(
            gw, agent, f"Hello {agent.title()}, this is the first observatory test message."
        )
        _agent_turn(gw, agent, "Second turn: please READFILE the notes for me.")
        known = set(session_keys(gw, agent))
        _agent_turn(gw, agent, f"Third turn: please SPAWN helper-{agent} for me.")
        # The child runs on its own and announces its completion back into the main session.
        wait_until(
            f"{agent}'s subagent announce",
            lambda agent=agent, key=key: announces(store_events(gw, agent, key)) >= 1,
            timeout=STEP_TIMEOUT,
        )
        sc.subagent_keys += [k for k in session_keys(gw, agent) if k not in known]
        # Two heartbeat polls back to back: the second wake follows the first reply at once.
        _heartbeat(gw, agent, key, f"First check-in for {agent}.")
        _heartbeat(gw, agent, key, f"Second check-in for {agent}.")

    sofia, rex = AGENTS
    gw.cli("sessions", "compact", sc.main_keys[sofia], "--agent", sofia)
    _agent_turn(gw, sofia, "Fourth turn after compaction: are you still there?")

    job = gw.cli_json(
        "cron",
        "add",
        "--agent",
        rex,
        "--every",
        "1h",
        "--session",
        "isolated",
        "--no-deliver",  # no channel is configured: keep the reply internal
        "--name",
        "observatory-cron",
        "--message",
        "Cron check: report the status in one line.",
    )
    sc.cron_job = str(_find_id(job))
    gw.cli("cron", "run", sc.cron_job)
    cron_key = f"agent:{rex}:cron:{sc.cron_job}"
    wait_until(
        "the cron run's reply",
        lambda: any(
            k.startswith(cron_key) and replies(store_events(gw, rex, k)) >= 1
            for k in session_keys(gw, rex)
        ),
        timeout=STEP_TIMEOUT,
    )

    gw.cli("config", "set", "agents.defaults.heartbeat.isolatedSession", "true", "--strict-json")
    isolated = f"agent:{rex}:main:heartbeat"
    sc.isolated_heartbeat_key = isolated

    def isolated_replied() -> bool:
        return replies(store_events(gw, rex, isolated)) >= 1

    # The config reload is picked up asynchronously: wake again until the isolated run shows.
    def wake_isolated() -> bool:
        gw.cli(
            "system",
            "event",
            "--text",
            "Isolated check-in.",
            "--mode",
            "now",
            "--session-key",
            sc.main_keys[rex],
        )
        try:
            wait_until("an isolated heartbeat", isolated_replied, timeout=180)
        except TimeoutError:
            return False
        return True

    wait_until("an isolated heartbeat session", wake_isolated, timeout=STEP_TIMEOUT, interval=1)
    return sc


def _find_id(payload: Any) -> Any:
    if isinstance(payload, dict):
        for key in ("id", "jobId"):
            if isinstance(payload.get(key), str):
                return payload[key]
        for value in payload.values():
            found = _find_id(value)
            if found:
                return found
    return None


def dump(sc: Scenario) -> str:
    return json.dumps(sc.__dict__, indent=2)
