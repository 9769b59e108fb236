"""Run Alembic migrations programmatically (used by the CLI, serve and the tests)."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from observatory.assets import migrations_dir

# Created by the migration only where the server has pg_trgm (the embedded server has not).
OPTIONAL_INDEXES = frozenset({"ix_sessions_title_trgm"})


def load_models() -> MetaData:
    """The shared metadata of every table (``observatory.tables`` imports each table module)."""
    from observatory.tables import metadata

    return metadata


def alembic_config(url: str) -> Config:
    # No alembic.ini: an installed wheel has none, and the caller owns logging and the URL.
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def _sync_run(connection: object, url: str, fn_name: str, target: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    getattr(command, fn_name)(cfg, target)


async def upgrade_async(url: str, target: str = "head") -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_sync_run, url, "upgrade", target)
    await engine.dispose()


async def downgrade_async(url: str, target: str = "base") -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_sync_run, url, "downgrade", target)
    await engine.dispose()


def upgrade(url: str, target: str = "head") -> None:
    asyncio.run(upgrade_async(url, target))


async def pending_diff(conn: AsyncConnection) -> list[object]:
    """Differences between the models and the migrated database (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    metadata = load_models()

    def compare(sync_conn: object) -> list[object]:
        mc = MigrationContext.configure(
            sync_conn,  # type: ignore[arg-type]
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, other: (
                    not (type_ == "index" and name in OPTIONAL_INDEXES)
                ),
            },
        )
        return list(compare_metadata(mc, metadata))

    return await conn.run_sync(compare)
