"""Provider-neutral session rules shared by sync, the API and the demo."""

from __future__ import annotations

from observatory.db.enums import SessionStatus

_PROVIDER_STATUS = {
    "pending": SessionStatus.PENDING,
    "queued": SessionStatus.PENDING,
    "running": SessionStatus.RUNNING,
    "active": SessionStatus.RUNNING,
    "done": SessionStatus.COMPLETED,
    "completed": SessionStatus.COMPLETED,
    "failed": SessionStatus.FAILED,
    "error": SessionStatus.FAILED,
    "killed": SessionStatus.FAILED,
    "timeout": SessionStatus.FAILED,
}


def status_from_provider(provider_status: str | None, *, ended: bool = False) -> SessionStatus:
    """Our status from the provider's; ``archived`` is never the provider's to set."""
    if provider_status and provider_status.lower() in _PROVIDER_STATUS:
        return _PROVIDER_STATUS[provider_status.lower()]
    return SessionStatus.COMPLETED if ended else SessionStatus.RUNNING
