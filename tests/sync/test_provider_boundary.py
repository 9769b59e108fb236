"""Only ``sync/openclaw/`` reads OpenClaw's own keys; everything else reads the neutral message
model (``observatory.sync.source.MessageContent``), so a second provider is one new package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PROVIDER_PACKAGE = ROOT / "backend" / "observatory" / "sync" / "openclaw"
# OpenClaw's transcript keys and block types, as string literals (a GraphQL field such as
# `toolResult { … }` or `msg.isError` is ours, not the provider's, and is not quoted).
OPENCLAW_KEYS = re.compile(
    r"""["'](toolName|toolCallId|isError|toolCall|toolResult|stopReason|errorMessage|"""
    r"""customType|tokensBefore|tokensAfter|thinkingSignature|__openclaw)["']"""
)


def _sources() -> list[Path]:
    backend = [
        p
        for p in (ROOT / "backend" / "observatory").rglob("*.py")
        if PROVIDER_PACKAGE not in p.parents
    ]
    frontend = [
        p
        for p in (ROOT / "frontend" / "src").rglob("*.ts*")
        # gql/ is codegen output: GraphQL documents that name our own fields (`isError`).
        if "gql" not in p.relative_to(ROOT / "frontend" / "src").parts
        and p.suffix in (".ts", ".tsx")
    ]
    return backend + frontend


def test_openclaw_keys_are_read_only_in_its_sync_package() -> None:
    sources = _sources()
    assert len(sources) > 50
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sources
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if OPENCLAW_KEYS.search(line)
    ]
    assert offenders == []


def test_the_check_sees_a_provider_key() -> None:
    assert OPENCLAW_KEYS.search("""content.get("toolCallId")""")
    assert not OPENCLAW_KEYS.search("toolResult { toolCallId name isError }")
