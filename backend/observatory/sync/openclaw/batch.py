"""Turn what a transport read for one session into a :class:`SyncBatch`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from observatory.db.enums import SessionStatus
from observatory.sync.openclaw.derive import derive
from observatory.sync.openclaw.events import ParsedEvent
from observatory.sync.openclaw.mapping import finish_session
from observatory.sync.source import SessionRecord, SyncBatch


@dataclass(slots=True)
class WindowRead:
    """Events read from one provider session id (a key's window), ascending seq."""

    provider_session_id: str
    events: list[ParsedEvent]
    from_seq: int  # reading started here (events before it were synced earlier)
    next_seq: int  # reading would continue here


def build_batch(
    session: SessionRecord,
    windows: list[WindowRead],
    previous: Mapping[str, Any] | None,
) -> tuple[SyncBatch, dict[str, int]]:
    """The batch plus, per provider session id, the seq to resume reading from next time."""
    batch = SyncBatch(session=session)
    resume: dict[str, int] = {}
    for window in windows:
        current = window.provider_session_id == session.provider_session_id
        derived = derive(
            window.events,
            window.provider_session_id,
            kind=session.kind,
            active=current and session.status is SessionStatus.RUNNING,
            next_seq=window.next_seq,
        )
        batch.messages.extend(derived.messages)
        batch.runs.extend(derived.runs)
        resume[window.provider_session_id] = derived.resume_seq
        batch.replace_from[window.provider_session_id] = window.from_seq
    batch.runs.sort(key=lambda r: r.started_at)
    previous_status = previous.get("last_run_status") if previous else None
    last = finish_session(session, batch.runs, batch.messages, previous_status)
    batch.cursor = {
        "fp": session.fingerprint,
        "last_run_status": last.value if last else None,
    }
    return batch, resume
