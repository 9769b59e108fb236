"""OpenClaw session entries -> neutral session records (kind, status, times, titles).

The same ``SessionEntry`` object appears in the SQLite store (``session_nodes.entry_json``),
the legacy ``sessions.json`` and, enriched, in gateway ``sessions.list`` rows, so one mapping
serves every transport. Where the gateway classifies a session we take its word; otherwise the
key grammar decides: ``agent:<a>:main`` main, ``:subagent:`` task, ``:cron:`` cron,
``:heartbeat`` suffix heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.db.enums import RunStatus, SessionKind, SessionStatus
from observatory.sync.openclaw.events import to_datetime
from observatory.sync.source import MessageRecord, RunRecord, SessionRecord

_CLASSIFICATION = {
    "main": SessionKind.MAIN,
    "heartbeat": SessionKind.HEARTBEAT,
    "subagent": SessionKind.TASK,
    "task": SessionKind.TASK,
    "cron": SessionKind.CRON,
    "group": SessionKind.CHANNEL,
    "channel": SessionKind.CHANNEL,
}
_STATUS = {
    "running": SessionStatus.RUNNING,
    "done": SessionStatus.COMPLETED,
    "failed": SessionStatus.FAILED,
    "killed": SessionStatus.FAILED,
    "timeout": SessionStatus.FAILED,
}
_RUN_TO_SESSION = {
    RunStatus.RUNNING: SessionStatus.RUNNING,
    RunStatus.COMPLETED: SessionStatus.COMPLETED,
    RunStatus.FAILED: SessionStatus.FAILED,
}


def agent_from_key(key: str) -> str | None:
    parts = key.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "agent" and parts[1] else None


def session_kind(
    key: str,
    *,
    classification: str | None = None,
    created_via: str | None = None,
    chat_type: str | None = None,
    heartbeat_base: str | None = None,
) -> SessionKind:
    if classification in _CLASSIFICATION:
        return _CLASSIFICATION[classification]
    parts = key.split(":")
    rest = parts[2:] if len(parts) >= 3 and parts[0] == "agent" else parts
    if (rest and rest[-1] == "heartbeat") or heartbeat_base:
        return SessionKind.HEARTBEAT
    if "subagent" in rest:
        return SessionKind.TASK
    if "cron" in rest:
        return SessionKind.CRON
    if rest == ["main"]:
        return SessionKind.MAIN
    if created_via == "spawn":
        return SessionKind.TASK
    if created_via == "cron":
        return SessionKind.CRON
    if created_via == "channel" or chat_type in {"group", "channel"}:
        return SessionKind.CHANNEL
    if "group" in rest or "channel" in rest:
        return SessionKind.CHANNEL
    return SessionKind.OTHER


def map_status(provider_status: str | None) -> SessionStatus | None:
    """Provider status -> ours; 'archived' is never the provider's to set."""
    return _STATUS.get(provider_status) if provider_status else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def record_from_entry(
    key: str,
    entry: dict[str, Any],
    *,
    agent_id: str | None = None,
    classification: str | None = None,
    fallback_status: str | None = None,
    channel: str | None = None,
    fingerprint: str | None = None,
) -> SessionRecord:
    """A session record from a SessionEntry (store, legacy file or gateway row).

    ``started_at`` starts as the entry's ``createdAt`` (else ``updatedAt``) and is lowered to
    the first transcript timestamp by :func:`finish_session` -- ``sessionStartedAt`` is not
    used because the gateway rows do not carry it, and both transports must agree.
    """
    updated = to_datetime(entry.get("updatedAt")) or to_datetime(entry.get("lastActivityAt"))
    created = to_datetime(entry.get("createdAt"))
    started = created or updated
    if started is None or updated is None:
        raise ValueError(f"session {key!r} has neither createdAt nor updatedAt")
    provider_status = _str(entry.get("status"))
    status = map_status(provider_status) or map_status(fallback_status)
    delivery = entry.get("deliveryContext")
    return SessionRecord(
        key=key,
        agent_id=agent_id or _str(entry.get("agentId")) or agent_from_key(key) or "unknown",
        kind=session_kind(
            key,
            classification=_str(entry.get("classification")) or classification,
            created_via=_str(entry.get("createdVia")),
            chat_type=_str(entry.get("chatType")),
            heartbeat_base=_str(entry.get("heartbeatIsolatedBaseSessionKey")),
        ),
        provider_status=provider_status,
        status=status,
        started_at=started,
        updated_at=max(updated, started),
        provider_session_id=_str(entry.get("sessionId")),
        title=_str(entry.get("label")) or _str(entry.get("displayName")),
        parent_key=_str(entry.get("parentSessionKey")) or _str(entry.get("spawnedBy")),
        model=_str(entry.get("model")),
        channel=channel
        or _str(entry.get("channel"))
        or _str(entry.get("lastChannel"))
        or (_str(delivery.get("channel")) if isinstance(delivery, dict) else None),
        ended_at=None if status is SessionStatus.RUNNING else to_datetime(entry.get("endedAt")),
        fingerprint=fingerprint,
    )


def finish_session(
    session: SessionRecord,
    runs: list[RunRecord],
    messages: list[MessageRecord],
    previous_run_status: str | None,
) -> RunStatus | None:
    """Fill what the listing could not know from the batch; returns the last run status.

    Without a provider status the session's status follows its last run (pending if none).
    """
    last: RunStatus | None = runs[-1].status if runs else None
    if last is None and previous_run_status:
        last = RunStatus(previous_run_status)
    if session.status is None:
        session.status = _RUN_TO_SESSION[last] if last else SessionStatus.PENDING
    if messages:
        first = min(m.created_at for m in messages)
        session.started_at = min(session.started_at, first)
        session.updated_at = max(session.updated_at, session.started_at)
    if session.model is None and runs:
        session.model = next((r.model for r in reversed(runs) if r.model), None)
    if session.ended_at is None and session.status in (
        SessionStatus.COMPLETED,
        SessionStatus.FAILED,
    ):
        finished = [r.finished_at for r in runs if r.finished_at is not None]
        session.ended_at = max(finished) if finished else None
    return last


def ms(dt: datetime | None) -> int | None:
    return int(dt.timestamp() * 1000) if dt else None
