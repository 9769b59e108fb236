"""AI proposals end to end: synthesis against the stub model, apply/revert through the fake
gateway's agents.files.* methods, and every refusal leaving the agent's files untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.db.models import SyncSource
from observatory.improve import proposals, synthesis
from observatory.improve.models import ProposalStatus
from observatory.review.client import ChatClient
from observatory.settings import Settings
from tests.review.data import NOW, Builder
from tests.review.stub_model import StubModel
from tests.sync.openclaw_fake_gateway import TOKEN, FakeGateway, load_recorded, serve

HEARTBEAT = """# Heartbeat checklist

- Check the inbox for new mail.
- Reply HEARTBEAT_OK when nothing needs attention.
"""
AGENTS = "# Sofia\n\nYou are Sofia, a careful engineer.\n"
DIFF = """--- a/HEARTBEAT.md
+++ b/HEARTBEAT.md
@@ -1,4 +1,5 @@
 # Heartbeat checklist
 
 - Check the inbox for new mail.
+- Before any file read, check that the path exists (ls) and skip missing files.
 - Reply HEARTBEAT_OK when nothing needs attention.
"""
AFTER = HEARTBEAT.replace(
    "mail.\n",
    "mail.\n- Before any file read, check that the path exists (ls) and skip missing files.\n",
)
SINCE, UNTIL = NOW - timedelta(days=7), NOW + timedelta(hours=1)


def answer(**overrides: Any) -> dict[str, Any]:
    base = {
        "file": "HEARTBEAT.md",
        "title": "Check paths before reading files",
        "rationale": "Four heartbeats failed on ENOENT reading files that do not exist.",
        "diff": DIFF,
        "target_metrics": ["failure_rate", "not_a_metric"],
        "evidence": {"review_ids": [], "session_ids": []},
    }
    return {**base, **overrides}


@pytest.fixture
async def gateway(fixtures_dir: Path) -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway(load_recorded(fixtures_dir))
    fake.files = {"sofia": {"HEARTBEAT.md": HEARTBEAT, "AGENTS.md": AGENTS}}
    async with serve(fake) as url:
        yield fake, url


async def plant(
    factory: async_sessionmaker[AsyncSession], config: dict[str, Any], kind: str
) -> list[int]:
    """Four failed sessions of sofia with the same ENOENT story, one accomplished."""
    async with factory() as db, db.begin():
        b = Builder(db)
        ids = []
        for i in range(4):
            sid = await b.session(
                status="failed", started=NOW - timedelta(hours=5 + i), total_cost=Decimal("0.25")
            )
            await b.review(sid, "failed", rating=1, summary="ENOENT: read HEARTBEAT target missing")
            ids.append(sid)
        ok = await b.session(started=NOW - timedelta(hours=3))
        await b.review(ok, "accomplished")
        await db.execute(
            update(SyncSource).where(SyncSource.id == b.source_id).values(kind=kind, config=config)
        )
    return ids


async def run_synthesis(factory: async_sessionmaker[AsyncSession], settings: Settings) -> list[Any]:
    async with ChatClient.from_settings(settings, factory) as client:
        rows = await synthesis.synthesize(
            factory, client, proposals.files_for_agent, since=SINCE, until=UNTIL
        )
    return [(r.id, r.status, r.error) for r in rows]


async def test_planted_failure_yields_a_proposal_that_applies_and_reverts_exactly(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stub: StubModel,
    gateway: tuple[FakeGateway, str],
) -> None:
    fake, url = gateway
    sessions = await plant(factory, {"gateway_url": url, "token": TOKEN}, "openclaw-gateway")
    stub.default = lambda body: answer()

    made = await run_synthesis(factory, settings)

    assert [(status, error) for _, status, error in made] == [("proposed", None)]
    prompt = stub.prompts()[0]
    assert "Reply HEARTBEAT_OK" in prompt and "ENOENT: read HEARTBEAT target missing" in prompt
    async with factory() as db:
        (p,) = await proposals.list_proposals(db)
        assert (p.file_name, p.base_text, p.writable) == ("HEARTBEAT.md", HEARTBEAT, True)
        assert p.sessions_affected == 4 and p.cost_at_stake == Decimal("1.00")
        assert p.target_metrics == ["failure_rate"]
        assert sorted(p.evidence["session_ids"]) == sorted(sessions)
    assert fake.file_writes == []  # nothing written before an approval

    async with factory() as db, db.begin():
        with pytest.raises(proposals.ProposalConflict, match="not approved"):
            await proposals.apply(db, p.id, api_key_id=None)
    assert fake.file_writes == []

    async with factory() as db, db.begin():
        await proposals.approve(db, p.id, api_key_id=None)
        applied = await proposals.apply(db, p.id, api_key_id=None)
        assert applied.status == ProposalStatus.APPLIED.value
        assert (applied.before_text, applied.after_text) == (HEARTBEAT, AFTER)
    assert fake.files["sofia"]["HEARTBEAT.md"] == AFTER
    assert ["operator.read", "operator.admin"] in fake.scopes_seen

    async with factory() as db, db.begin():
        reverted = await proposals.revert(db, p.id, api_key_id=None)
        assert reverted.status == ProposalStatus.REVERTED.value
    assert fake.files["sofia"]["HEARTBEAT.md"] == HEARTBEAT
    assert [w[2] for w in fake.file_writes] == [AFTER, HEARTBEAT]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"file": "PROMPT.md"}, "unknown file 'PROMPT.md'"),
        ({"diff": DIFF.replace("inbox", "outbox")}, "does not apply"),
        ({"diff": "make it better"}, "not a unified diff"),
    ],
)
async def test_malformed_answer_is_stored_invalid_with_its_reason_and_nothing_written(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stub: StubModel,
    gateway: tuple[FakeGateway, str],
    bad: dict[str, Any],
    reason: str,
) -> None:
    fake, url = gateway
    await plant(factory, {"gateway_url": url, "token": TOKEN}, "openclaw-gateway")
    stub.default = lambda body: answer(**bad)

    made = await run_synthesis(factory, settings)

    assert len(made) == 1
    pid, status, error = made[0]
    assert status == "invalid" and reason in (error or "")
    async with factory() as db, db.begin():
        with pytest.raises(proposals.ProposalConflict):
            await proposals.approve(db, pid, api_key_id=None)
    assert fake.file_writes == []
    assert fake.files["sofia"]["HEARTBEAT.md"] == HEARTBEAT


async def test_a_file_changed_since_the_proposal_is_a_conflict(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stub: StubModel,
    gateway: tuple[FakeGateway, str],
) -> None:
    fake, url = gateway
    await plant(factory, {"gateway_url": url, "token": TOKEN}, "openclaw-gateway")
    stub.default = lambda body: answer()
    ((pid, _, _),) = await run_synthesis(factory, settings)
    fake.files["sofia"]["HEARTBEAT.md"] = HEARTBEAT + "- Someone edited this by hand.\n"
    async with factory() as db, db.begin():
        await proposals.approve(db, pid, api_key_id=None)
        with pytest.raises(proposals.ProposalConflict, match="changed since"):
            await proposals.apply(db, pid, api_key_id=None)
    assert fake.file_writes == []


async def test_a_local_state_dir_is_read_only_the_patch_is_the_way(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    stub: StubModel,
    tmp_path: Path,
) -> None:
    ws = tmp_path / "workspace-sofia"
    ws.mkdir()
    (ws / "HEARTBEAT.md").write_text(HEARTBEAT)
    await plant(factory, {"state_dir": str(tmp_path)}, "openclaw-store")
    stub.default = lambda body: answer()
    ((pid, status, _),) = await run_synthesis(factory, settings)
    assert status == "proposed"
    async with factory() as db, db.begin():
        p = await proposals.approve(db, pid, api_key_id=None)
        assert p.writable is False
        with pytest.raises(proposals.ReadOnlySource):
            await proposals.apply(db, pid, api_key_id=None)
    assert (ws / "HEARTBEAT.md").read_text() == HEARTBEAT
