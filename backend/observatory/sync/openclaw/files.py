"""An OpenClaw agent's workspace files: through the gateway (read/write) or the state dir (read).

Gateway methods (shapes from OpenClaw's ``src/gateway/server-methods/agents.ts``; no recording
of them exists in our fixtures yet):

- ``agents.files.list {agentId}`` -> ``{agentId, workspace, files: [{name, path, missing, size?,
  updatedAtMs?}]}``
- ``agents.files.get {agentId, name}`` -> ``{agentId, workspace, file: {name, path, missing,
  size?, updatedAtMs?, content?}}``
- ``agents.files.set {agentId, name, content}`` -> ``{ok, agentId, workspace, file}``

Writes need an operator connection with admin scope; reads are fine with ``operator.read``.
Locally the workspace is ``<state_dir>/workspace-<agent>`` (or ``<state_dir>/workspace`` for the
default agent); we never write there: a local store's proposals are downloaded as patches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from observatory.sync.openclaw.adapter import SOURCE_KINDS
from observatory.sync.openclaw.gateway import GatewayRpc
from observatory.sync.source import AgentFiles, SourceConfigError, SourceError

# The workspace documents OpenClaw's agents.files.* methods accept.
WORKSPACE_FILES = (
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "USER.md",
    "HEARTBEAT.md",
    "BOOTSTRAP.md",
    "MEMORY.md",
)


def _check(name: str) -> None:
    if name not in WORKSPACE_FILES:
        raise SourceConfigError(f"{name!r} is not an agent workspace file")


class GatewayFiles:
    """Workspace files over the gateway's WebSocket RPC (one connection per use)."""

    writable = True

    def __init__(self, url: str, token: str | None, *, timeout: float = 15.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    async def _call(self, method: str, params: dict[str, Any], *, write: bool = False) -> Any:
        scopes = ("operator.read", "operator.admin") if write else ("operator.read",)
        async with GatewayRpc(self.url, self.token, timeout=self.timeout, scopes=scopes) as rpc:
            return await rpc.call(method, params)

    async def list_files(self, agent_id: str) -> list[str]:
        payload = await self._call("agents.files.list", {"agentId": agent_id}) or {}
        return [
            str(f["name"])
            for f in payload.get("files") or []
            if isinstance(f, dict) and not f.get("missing") and f.get("name") in WORKSPACE_FILES
        ]

    async def read(self, agent_id: str, name: str) -> str | None:
        _check(name)
        payload = await self._call("agents.files.get", {"agentId": agent_id, "name": name}) or {}
        file = payload.get("file") or {}
        if file.get("missing") or not isinstance(file.get("content"), str):
            return None
        return str(file["content"])

    async def write(self, agent_id: str, name: str, content: str) -> None:
        _check(name)
        payload = await self._call(
            "agents.files.set", {"agentId": agent_id, "name": name, "content": content}, write=True
        )
        if not isinstance(payload, dict) or payload.get("ok") is False:
            raise SourceError(f"agents.files.set {name}: unexpected answer {payload!r:.200}")

    async def aclose(self) -> None:
        return None


class WorkspaceDirFiles:
    """Read-only: the workspace directories under a local state dir."""

    writable = False

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.root = Path(state_dir).expanduser()

    def _dir(self, agent_id: str) -> Path:
        own = self.root / f"workspace-{agent_id}"
        return own if own.is_dir() else self.root / "workspace"

    async def list_files(self, agent_id: str) -> list[str]:
        base = self._dir(agent_id)
        return [n for n in WORKSPACE_FILES if (base / n).is_file()]

    async def read(self, agent_id: str, name: str) -> str | None:
        _check(name)
        path = self._dir(agent_id) / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    async def write(self, agent_id: str, name: str, content: str) -> None:
        raise SourceConfigError("a local state dir is read-only here: download the patch")

    async def aclose(self) -> None:
        return None


def files_from_config(kind: str, config: Mapping[str, Any]) -> AgentFiles | None:
    """The file access a ``sync_sources`` row allows: the gateway when it has one (writable),
    else the state dir (read-only), else None."""
    if kind not in SOURCE_KINDS:
        return None
    url = config.get("gateway_url") or config.get("url")
    if url and kind != "openclaw-store":
        token = config.get("token")
        if not token and config.get("token_env"):
            token = os.environ.get(str(config["token_env"]))
        return GatewayFiles(str(url), token, timeout=float(config.get("timeout") or 15.0))
    if config.get("state_dir"):
        return WorkspaceDirFiles(str(config["state_dir"]))
    return None
