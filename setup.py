"""Build step: put the migrations and the built dashboard inside the ``observatory`` package.

Metadata lives in pyproject.toml; this file only adds two setuptools command overrides so that
a wheel is self-contained (``pip install observatory-*.whl && observatory serve --demo`` needs
no checkout, Node or PostgreSQL server):

- ``build_py`` copies ``migrations/`` to ``observatory/_migrations`` and ``frontend/dist`` to
  ``observatory/_dashboard``. It builds the dashboard first (``npm ci`` + ``npm run build``)
  when npm is here and ``frontend/dist`` is missing or older than its sources. Without npm
  and without a built dashboard the wheel serves the API only, with a warning — unless
  ``OBSERVATORY_REQUIRE_DASHBOARD=1`` (release builds, ``make dist``), which makes it an error.
- ``sdist`` builds the dashboard the same way and ships ``frontend/dist`` (not the Node
  sources), so a wheel built from the sdist needs no Node either.

Editable installs (``pip install -e .``, ``make venv``) skip both copies: the package then
finds ``migrations/`` and ``frontend/dist`` in the checkout (see observatory/assets.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"
# What the dashboard build reads: newer than dist/index.html means dist is stale.
FRONTEND_SOURCES = (
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "codegen.ts",
    "tsconfig.json",
)


def _newest_source_mtime() -> float:
    newest = 0.0
    paths = [FRONTEND / name for name in FRONTEND_SOURCES] + [ROOT / "schema.graphql"]
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for item in path.rglob("*"):
                if item.is_file():
                    newest = max(newest, item.stat().st_mtime)
    return newest


def dashboard_is_current() -> bool:
    index = DIST / "index.html"
    return index.is_file() and index.stat().st_mtime >= _newest_source_mtime()


def ensure_dashboard() -> bool:
    """Build frontend/dist when it is missing or stale and npm can; True if one is there."""
    if dashboard_is_current():
        return True
    npm = shutil.which("npm")
    if npm and (FRONTEND / "package.json").is_file():
        print("building the dashboard (npm ci, npm run build) …")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    present = (DIST / "index.html").is_file()
    if not present:
        message = "no built dashboard (frontend/dist) and no npm: the package serves the API only"
        if os.environ.get("OBSERVATORY_REQUIRE_DASHBOARD") == "1":
            raise SystemExit(f"error: {message}")
        print(f"warning: {message}")
    return present


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout's migrations/ and frontend/dist are used in place
        target = Path(self.build_lib) / "observatory"
        migrations = ROOT / "migrations"
        if migrations.is_dir():
            shutil.copytree(
                migrations,
                target / "_migrations",
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        if ensure_dashboard():
            shutil.copytree(DIST, target / "_dashboard", dirs_exist_ok=True)


class Sdist(sdist):
    def run(self) -> None:
        ensure_dashboard()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
