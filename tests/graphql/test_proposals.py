"""Proposals over GraphQL: only `agents:write` keys approve, edit, apply and revert; apply then
revert restores the exact text; a diff that does not apply is BAD_USER_INPUT on `diff`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.db.engine import make_session_factory
from observatory.improve import proposals
from observatory.improve.models import ImprovementProposal
from tests.graphql.conftest import Api

TEXT = "# Heartbeat\n\n- Check the inbox.\n- Reply HEARTBEAT_OK.\n"
DIFF = """--- a/HEARTBEAT.md
+++ b/HEARTBEAT.md
@@ -2,3 +2,4 @@
 
 - Check the inbox.
+- Skip files that do not exist.
 - Reply HEARTBEAT_OK.
"""
AFTER = TEXT.replace("inbox.\n", "inbox.\n- Skip files that do not exist.\n")
FIELDS = "id status diff beforeText afterText appliedAt writable patch error"


class MemoryFiles:
    writable = True

    def __init__(self) -> None:
        self.files = {("sofia", "HEARTBEAT.md"): TEXT}
        self.writes: list[str] = []

    async def list_files(self, agent_id: str) -> list[str]:
        return [n for a, n in self.files if a == agent_id]

    async def read(self, agent_id: str, name: str) -> str | None:
        return self.files.get((agent_id, name))

    async def write(self, agent_id: str, name: str, content: str) -> None:
        self.files[(agent_id, name)] = content
        self.writes.append(content)

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def proposal(
    demo_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, MemoryFiles]]:
    files = MemoryFiles()

    async def files_for_agent(db: Any, agent_id: str) -> tuple[MemoryFiles, int | None]:
        return files, None

    monkeypatch.setattr(proposals, "files_for_agent", files_for_agent)
    factory = make_session_factory(demo_engine)
    now = datetime.now(UTC)
    async with factory() as db, db.begin():
        row = ImprovementProposal(
            agent_id="sofia", file_name="HEARTBEAT.md", base_text=TEXT, diff=DIFF, writable=True,
            title="Skip missing files", rationale="ENOENT in 4 heartbeats", sessions_affected=4,
            target_metrics=["failure_rate"], period_start=now - timedelta(days=7), period_end=now,
        )  # fmt: skip
        db.add(row)
        await db.flush()
        pid = str(row.id)
    yield pid, files
    async with factory() as db, db.begin():
        await db.execute(delete(ImprovementProposal).where(ImprovementProposal.id == int(pid)))


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
@pytest.mark.parametrize("op", ["approveProposal", "applyProposal", "revertProposal"])
async def test_viewer_and_reviewer_cannot_touch_an_agent(
    api: dict[str, Api], proposal: tuple[str, MemoryFiles], role: str, op: str
) -> None:
    pid, files = proposal
    code = await api[role].error_code(
        f"mutation($id: ID!) {{ {op}(id: $id) {{ id }} }}", {"id": pid}
    )
    assert code == "FORBIDDEN"
    assert files.writes == []


async def test_operator_approves_applies_and_reverts_exactly(
    api: dict[str, Api], proposal: tuple[str, MemoryFiles]
) -> None:
    pid, files = proposal
    op = api["operator"]
    q = "mutation($id: ID!) {{ {}(id: $id) {{ " + FIELDS + " }} }}"
    assert await op.error_code(q.format("applyProposal"), {"id": pid}) == "CONFLICT"
    assert files.writes == []
    approved = (await op.ok(q.format("approveProposal"), {"id": pid}))["approveProposal"]
    assert approved["status"] == "APPROVED" and approved["patch"] == DIFF
    applied = (await op.ok(q.format("applyProposal"), {"id": pid}))["applyProposal"]
    assert applied["status"] == "APPLIED"
    assert (applied["beforeText"], applied["afterText"]) == (TEXT, AFTER)
    assert files.files[("sofia", "HEARTBEAT.md")] == AFTER
    listed = await op.ok("{ proposals(first: 5) { id status cursor impact { complete } } }")
    mine = [p for p in listed["proposals"] if p["id"] == pid]
    assert mine and mine[0]["impact"]["complete"] is False  # applied just now: too early
    reverted = (await op.ok(q.format("revertProposal"), {"id": pid}))["revertProposal"]
    assert reverted["status"] == "REVERTED"
    assert files.files[("sofia", "HEARTBEAT.md")] == TEXT
    assert files.writes == [AFTER, TEXT]


async def test_an_edited_diff_must_apply_and_needs_a_new_approval(
    api: dict[str, Api], proposal: tuple[str, MemoryFiles]
) -> None:
    pid, files = proposal
    op = api["operator"]
    edit = "mutation($id: ID!, $d: String!) { editProposalDiff(id: $id, diff: $d) { status diff } }"
    await op.ok("mutation($id: ID!) { approveProposal(id: $id) { id } }", {"id": pid})
    body = await op.raw(edit, {"id": pid, "d": DIFF.replace("inbox", "outbox")})
    err = body["errors"][0]
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "diff"}
    assert "does not apply" in err["message"]
    better = DIFF.replace("do not exist", "are missing")
    edited = (await op.ok(edit, {"id": pid, "d": better}))["editProposalDiff"]
    assert edited == {"status": "PROPOSED", "diff": better}
    assert files.writes == []
