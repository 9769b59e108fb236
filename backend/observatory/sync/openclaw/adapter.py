"""The OpenClaw adapter: one installation, reached through its files and/or its gateway.

Config keys (``sync_sources.config``)::

    state_dir        ~/.openclaw of the installation (agents are discovered below it)
    store_paths      explicit openclaw-agent.sqlite files
    sessions_json    explicit legacy sessions.json (+ transcripts_dir)
    gateway_url      ws://host:18789 (HTTP history is served on the same port)
    token            gateway token, or token_env: name of an environment variable holding it
    agents           only these agent ids
    timeout          network/lock timeout in seconds (default 15)
    list_page_size, history_page_size, list_params   gateway paging (defaults 200, 200, {})

When the installation's files are readable they are preferred: they hold the heartbeat turns
the gateway history hides, exact event ids and the tree of ``parentId`` links. The two
transports are never mixed within a pass, so a session is always read the same way.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection, Mapping
from pathlib import Path
from typing import Any

from observatory.sync.openclaw.remote import GatewaySource
from observatory.sync.openclaw.store import STORE_FILENAME, LegacyStore, SqliteStore
from observatory.sync.openclaw.watch import store_changes
from observatory.sync.source import (
    Change,
    SessionRecord,
    SessionSource,
    SourceConfigError,
    SyncBatch,
)

SOURCE_KINDS = ("openclaw", "openclaw-store", "openclaw-gateway")


def discover_stores(
    state_dir: str | os.PathLike[str], agents: list[str] | None = None
) -> list[SessionSource]:
    """One transport per agent under ``<state_dir>/agents``: SQLite if present, else legacy."""
    root = Path(state_dir).expanduser() / "agents"
    found: list[SessionSource] = []
    if not root.is_dir():
        return found
    for agent_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if agents and agent_dir.name not in agents:
            continue
        sqlite_path = agent_dir / "agent" / STORE_FILENAME
        legacy = agent_dir / "sessions" / "sessions.json"
        if sqlite_path.is_file():
            found.append(SqliteStore(sqlite_path))
        elif legacy.is_file():
            found.append(LegacyStore(legacy, agent_id=agent_dir.name))
    return found


class OpenClawSource:
    """Routes each session to the transport that listed it."""

    provider = "openclaw"

    def __init__(
        self,
        stores: list[SessionSource],
        gateway: GatewaySource | None = None,
        *,
        watch_dirs: list[Path] | None = None,
    ) -> None:
        if not stores and gateway is None:
            raise SourceConfigError("an OpenClaw source needs a state directory or a gateway URL")
        self.stores = stores
        self.gateway = gateway
        # Directories whose store files are watched (state_dir/agents covers agents added later).
        self.watch_dirs = list(watch_dirs or []) + [d for s in stores for d in _store_dirs(s)]
        self.listing_complete = True
        self._owner: dict[str, SessionSource] = {}

    @property
    def transports(self) -> list[SessionSource]:
        return list(self.stores) if self.stores else [self.gateway] if self.gateway else []

    async def list_sessions(self, keys: Collection[str] | None = None) -> list[SessionRecord]:
        owner: dict[str, SessionSource] = {}
        records: list[SessionRecord] = []
        complete = True
        for transport in self.transports:
            listed = (
                await transport.list_sessions(keys)
                if keys is not None and isinstance(transport, GatewaySource)
                else await transport.list_sessions()
            )
            for record in listed:
                if record.key not in owner:
                    owner[record.key] = transport
                    records.append(record)
            complete = complete and getattr(transport, "listing_complete", True)
        self._owner = owner
        self.listing_complete = complete
        return records

    async def fetch(self, session: SessionRecord, cursor: Mapping[str, Any] | None) -> SyncBatch:
        transport = self._owner.get(session.key)
        if transport is None:
            raise KeyError(f"session {session.key!r} was not listed by this source")
        return await transport.fetch(session, cursor)

    def changes(self) -> AsyncIterator[Change]:
        """File changes when the store is read (it is preferred), else gateway events."""
        if self.stores:
            return store_changes(self.watch_dirs)
        assert self.gateway is not None
        return self.gateway.changes()

    async def aclose(self) -> None:
        for transport in [*self.stores, *([self.gateway] if self.gateway else [])]:
            await transport.aclose()


def from_config(kind: str, config: Mapping[str, Any]) -> OpenClawSource:
    """Build the adapter for a ``sync_sources`` row."""
    if kind not in SOURCE_KINDS:
        raise SourceConfigError(f"unknown OpenClaw source kind {kind!r}")
    timeout = float(config.get("timeout") or 15.0)
    agents = config.get("agents") or None
    stores: list[SessionSource] = []
    if kind != "openclaw-gateway":
        if config.get("state_dir"):
            stores.extend(discover_stores(config["state_dir"], agents))
        for path in config.get("store_paths") or []:
            stores.append(SqliteStore(path, busy_timeout=min(timeout, 5.0)))
        if config.get("sessions_json"):
            stores.append(LegacyStore(config["sessions_json"], config.get("transcripts_dir")))
        if not stores and (
            kind == "openclaw-store" or not (config.get("gateway_url") or config.get("url"))
        ):
            state_dir = config.get("state_dir")
            if state_dir and not os.path.isdir(str(state_dir)):
                raise SourceConfigError(f"the state directory {state_dir} is missing")
            if state_dir:
                raise SourceConfigError(
                    f"no OpenClaw agent store under {state_dir} (agents/*/agent/{STORE_FILENAME})"
                )
            if kind == "openclaw-store":
                raise SourceConfigError("an OpenClaw store source needs `state_dir`")
    gateway = None
    url = config.get("gateway_url") or config.get("url")
    if url and kind != "openclaw-store":
        token = config.get("token")
        if not token and config.get("token_env"):
            token = os.environ.get(str(config["token_env"]))
        gateway = GatewaySource(
            str(url),
            token,
            timeout=timeout,
            list_params=config.get("list_params"),
            list_page_size=int(config.get("list_page_size") or 200),
            history_page_size=int(config.get("history_page_size") or 200),
        )
    watch_dirs = (
        [Path(config["state_dir"]).expanduser() / "agents"] if config.get("state_dir") else []
    )
    return OpenClawSource(stores, gateway, watch_dirs=watch_dirs)


def _store_dirs(store: SessionSource) -> list[Path]:
    if isinstance(store, SqliteStore):
        return [store.path.parent]
    if isinstance(store, LegacyStore):
        return [store.sessions_json.parent, store.transcripts_dir]
    return []
