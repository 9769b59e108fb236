"""Resolve where the database is: a configured URL, or the embedded server under data_dir."""

from __future__ import annotations

import atexit
from typing import Any

from observatory.settings import Settings

_embedded: dict[str, Any] = {}


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if "url" not in _embedded:
        from observatory.db.embedded import start_embedded, stop_embedded

        server, url = start_embedded(settings.data_dir)
        atexit.register(stop_embedded, server)
        _embedded.update(server=server, url=url)
    return str(_embedded["url"])
