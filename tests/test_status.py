"""GET /status: the version for the dashboard footer and the background demo load's state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from observatory import __version__
from observatory.app import create_app
from observatory.demo import loading_marker
from observatory.settings import load_settings


async def test_status_reports_version_and_demo_loading(tmp_path: Path) -> None:
    settings = dataclasses.replace(
        load_settings(), database_url="postgresql+asyncpg://u@h/d", data_dir=tmp_path
    )
    # /status touches no database: no lifespan needed, and it answers before sign-in.
    transport = httpx.ASGITransport(app=create_app(settings, run_background=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/status")).json() == {
            "version": __version__,
            "demoLoading": False,
        }
        loading_marker(tmp_path).touch()
        assert (await client.get("/status")).json()["demoLoading"] is True
