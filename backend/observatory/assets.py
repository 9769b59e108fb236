"""Where the migrations and the built dashboard are: inside the installed package, or the checkout.

A wheel carries them as ``observatory/_migrations`` and ``observatory/_dashboard`` (copied by
setup.py's build step); an editable install or a plain checkout uses ``migrations/`` and
``frontend/dist`` beside ``backend/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parents[1]


def migrations_dir() -> Path:
    packaged = PACKAGE / "_migrations"
    return packaged if (packaged / "env.py").is_file() else CHECKOUT / "migrations"


def dashboard_dir() -> Path:
    packaged = PACKAGE / "_dashboard"
    return packaged if (packaged / "index.html").is_file() else CHECKOUT / "frontend" / "dist"
