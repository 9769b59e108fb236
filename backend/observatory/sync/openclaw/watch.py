"""Push for OpenClaw: the gateway's session events and the store's file changes as ``Change``s.

Gateway: ``sessions.subscribe`` (no params) makes the gateway send ``sessions.changed`` to this
connection for every session it touches -- ``{sessionKey, agentId, reason, phase?, runId?, ts,
session?}``, with ``phase`` ``start``/``end``/``error`` around each run (OpenClaw 2026.9.6,
``src/gateway/server-methods/sessions-subscriptions.ts``). The gateway drops these for slow
consumers (``dropIfSlow``), so they speed sync up and the periodic full pass stays the safety
net. ``session.message`` (sent after ``sessions.messages.subscribe`` for one key) is read too.

Store: the SQLite store is one file per agent (WAL mode) and the legacy layout one JSONL per
session; any change there means "rescan", which is cheap because unchanged sessions are skipped
by fingerprint. ``-shm`` files are left out: readers (us included) touch them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

import watchfiles

from observatory.sync.circuit import Policy, backoff_s
from observatory.sync.openclaw.gateway import CLOSED, INVALID_FRAME, GatewayRpc, RpcError
from observatory.sync.source import Change, SourceError

log = logging.getLogger(__name__)

# Reconnect after 0.5 s, doubling to 30 s (jittered): a restarting gateway is back in seconds.
RECONNECT = Policy(backoff_base_s=0.5, backoff_max_s=30.0)
# Events that name one session whose transcript or entry changed.
SESSION_EVENTS = frozenset({"sessions.changed", "session.message"})
# Sent to every connection whatever it subscribed to; never about session data.
QUIET_EVENTS = frozenset({"connect.challenge", "tick", "presence", "health", "heartbeat"})
# Watch-file debounce: burst writes of one turn (row + WAL) within 50 ms come as one change.
FILE_DEBOUNCE_MS = 50
FILE_STEP_MS = 20


def _session_key(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for candidate in (
        payload.get("sessionKey"),
        payload.get("key"),
        (payload.get("session") or {}).get("key")
        if isinstance(payload.get("session"), dict)
        else None,
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def change_from_event(
    frame: dict[str, Any], advertised: Collection[str], reported: set[str]
) -> Change | None:
    """The change one event frame announces; None for events that say nothing about sessions.

    An event the gateway did not advertise in ``hello-ok`` is unknown: shown once per name
    (``reported``) as a problem and otherwise ignored.
    """
    name = frame.get("event")
    if name in SESSION_EVENTS:
        key = _session_key(frame.get("payload"))
        if key is None:
            return Change(problem=f"{name} event without a session key: rescanning")
        return Change(frozenset({key}))
    if isinstance(name, str) and (name in advertised or name in QUIET_EVENTS):
        return None
    label = name if isinstance(name, str) else repr(name)[:80]
    if label in reported:
        return None
    reported.add(label)
    log.warning("unknown gateway event %s ignored", label)
    return Change(frozenset(), problem=f"unknown gateway event {label} ignored")


async def gateway_changes(
    url: str, token: str | None, *, rpc_timeout_s: float = 15.0, reconnect: Policy = RECONNECT
) -> AsyncIterator[Change]:
    """Changes pushed by the gateway, until cancelled; reconnects with backoff and yields a
    rescan after every (re)connect so events missed while away are caught up."""
    failures = 0
    while True:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        rpc = GatewayRpc(url, token, timeout=rpc_timeout_s, events=queue)
        try:
            await rpc.connect()
            await rpc.call("sessions.subscribe", {})
        except RpcError as exc:
            await rpc.aclose()
            # A gateway without session events: the periodic pass is all there is.
            yield Change(
                frozenset(), problem=f"gateway refused sessions.subscribe ({exc}); polling"
            )
            return
        except SourceError as exc:
            await rpc.aclose()
            failures += 1
            wait = backoff_s(failures, reconnect)
            yield Change(frozenset(), problem=f"gateway events: {exc}; retrying in {wait:.1f}s")
            await asyncio.sleep(wait)
            continue
        failures = 0
        features = rpc.hello.get("features") if isinstance(rpc.hello, dict) else None
        advertised = set((features or {}).get("events") or [])
        reported: set[str] = set()
        reason = "gateway closed the event stream"
        try:
            yield Change()
            while True:
                frame = await queue.get()
                kind = frame.get("type")
                if kind == CLOSED:
                    reason = str(frame.get("reason") or reason)
                    break
                if kind == INVALID_FRAME:
                    # An event may have been in it: show the frame and rescan.
                    log.warning("unparsable gateway frame: %s", frame.get("error"))
                    yield Change(problem=f"unparsable gateway frame ({frame.get('error')})")
                    continue
                change = change_from_event(frame, advertised, reported)
                if change is not None:
                    yield change
        finally:
            await rpc.aclose()
        failures += 1
        wait = backoff_s(failures, reconnect)
        yield Change(frozenset(), problem=f"{reason}; reconnecting in {wait:.1f}s")
        await asyncio.sleep(wait)


def _store_file(_change: watchfiles.Change, path: str) -> bool:
    name = Path(path).name
    if name.endswith("-shm"):
        return False
    return (
        name.startswith("openclaw-agent.sqlite")
        or name == "sessions.json"
        or name.endswith((".jsonl", ".zst"))
    )


async def store_changes(paths: Collection[Path]) -> AsyncIterator[Change]:
    """A rescan whenever a store file under ``paths`` (directories) changes, until cancelled."""
    roots = sorted({p for p in paths if p.is_dir()})
    if not roots:
        yield Change(frozenset(), problem="no store directory to watch; polling")
        return
    yield Change()
    async for _batch in watchfiles.awatch(
        *roots,
        watch_filter=_store_file,
        debounce=FILE_DEBOUNCE_MS,
        step=FILE_STEP_MS,
        recursive=True,
    ):
        yield Change()
