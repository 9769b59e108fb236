"""The breaking-change guard: the current schema against the last released one.

A breaking change (graphql-core's ``find_breaking_changes``) fails this test unless
docs/schema-changes.md lists it, with a reason, under its "Unreleased" heading."""

import re
from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "schema.released.graphql"
CURRENT = ROOT / "schema.graphql"
CHANGELOG = ROOT / "docs" / "schema-changes.md"

# - `Field Query.oldField was removed.` — reason   (an em dash, "--" or ":" before the reason)
ENTRY = re.compile(r"^\s*[-*]\s+`(?P<change>[^`]+)`\s*(?:—|--|:)\s*(?P<reason>\S.*)$")


def _schema(path: Path) -> GraphQLSchema:
    return build_schema(path.read_text())


def unreleased_entries(text: str) -> dict[str, str]:
    """Listed change → reason, from the "## Unreleased" section only (a change allowed in an
    earlier release is no licence to make it again)."""
    section = re.split(r"^## Unreleased\s*$", text, maxsplit=1, flags=re.M)
    if len(section) < 2:
        return {}
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.M)[0]
    entries: dict[str, str] = {}
    for line in body.splitlines():
        m = ENTRY.match(line)
        if m:
            entries[m["change"].strip()] = m["reason"].strip()
    return entries


def test_no_unlisted_breaking_change() -> None:
    changes = find_breaking_changes(_schema(RELEASED), _schema(CURRENT))
    listed = unreleased_entries(CHANGELOG.read_text())
    unlisted = [c.description for c in changes if c.description not in listed]
    assert not unlisted, (
        "schema.graphql breaks clients of schema.released.graphql. Prefer deprecating; if the break is "
        "intended, add under '## Unreleased' in docs/schema-changes.md:\n"
        + "\n".join(f"- `{d}` — <reason>" for d in unlisted)
    )


def test_listed_changes_give_a_reason() -> None:
    for change, reason in unreleased_entries(CHANGELOG.read_text()).items():
        assert len(reason) >= 10, f"{change!r}: say why (and what clients use instead)"


def test_guard_sees_a_removed_field_and_accepts_a_listed_one() -> None:
    # The guard itself can fail: drop a released field and it is reported by name.
    old = build_schema("type Query { a: Int, b: String }")
    new = build_schema("type Query { a: Int }")
    [change] = find_breaking_changes(old, new)
    assert "Query.b" in change.description
    changelog = (
        f"# x\n## Unreleased\n- `{change.description}` — nobody read it; use a\n"
        "## 1.0\n- `Field Query.c was removed.` — an older release\n"
    )
    assert unreleased_entries(changelog) == {change.description: "nobody read it; use a"}
    # Additions are not breaking, at most dangerous (an enum value a strict client may not know).
    assert not find_breaking_changes(new, old)
    assert find_dangerous_changes(
        build_schema("enum E { X } type Query { e: E }"),
        build_schema("enum E { X Y } type Query { e: E }"),
    )
