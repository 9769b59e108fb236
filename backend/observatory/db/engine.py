"""Async engine and session factory; connections are tagged with application_name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    app_name: str = "observatory",
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    server_settings = {"application_name": app_name}
    if statement_timeout_ms:
        # The API's sessions only: no statement of one request can hold a connection longer.
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL -> plain libpq DSN for a raw asyncpg connection (LISTEN, COPY, bench)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
