"""The README's layout (top of its Development section) names every backend module, and only
modules that exist: a new module without its line fails here, so the map stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backend" / "observatory"


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Development\n", 1)[1]
    return section.split("```\n", 2)[1]  # the first code block of the section


def _listed_modules() -> set[str]:
    # Lines "  graphql/app.py   what it is": paths relative to backend/observatory/.
    return set(re.findall(r"^  (\S+\.py)\s", _layout(), flags=re.MULTILINE))


def _modules() -> set[str]:
    # Package __init__ files are covered by their folder; every other module needs a line.
    return {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py"
        and not any(part.startswith("_") for part in p.parent.relative_to(PACKAGE).parts)
    }


def test_every_backend_module_has_a_line() -> None:
    modules = _modules()
    assert modules, "no modules found under backend/observatory"
    missing = sorted(modules - _listed_modules())
    assert missing == [], f"README Development layout lacks: {missing}"


def test_every_listed_module_exists() -> None:
    listed = _listed_modules()
    assert listed, "no module lines found in the README Development layout"
    stale = sorted(listed - _modules())
    assert stale == [], f"README Development layout names modules that are gone: {stale}"


def test_every_listed_folder_exists() -> None:
    folders = re.findall(r"^(\S+/)\s", _layout(), flags=re.MULTILINE)
    assert folders, "no folder lines found in the README Development layout"
    assert [f for f in folders if not (ROOT / f).is_dir()] == []
