"""OpenClaw adapter: SQLite store / legacy JSONL files and the gateway (WebSocket + HTTP)."""

from observatory.sync.openclaw.adapter import SOURCE_KINDS, OpenClawSource, from_config
from observatory.sync.openclaw.remote import GatewaySource
from observatory.sync.openclaw.store import (
    SUPPORTED_SCHEMA_VERSIONS,
    LegacyStore,
    SqliteStore,
    UnsupportedSchemaError,
)

__all__ = [
    "SOURCE_KINDS",
    "SUPPORTED_SCHEMA_VERSIONS",
    "GatewaySource",
    "LegacyStore",
    "OpenClawSource",
    "SqliteStore",
    "UnsupportedSchemaError",
    "from_config",
]
