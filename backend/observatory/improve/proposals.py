"""Proposals after synthesis: list (ranked by evidence), edit, approve, apply, revert, impact.

Nothing reaches an agent without an explicit approval: ``apply`` only takes an ``approved``
proposal, re-reads the file, refuses when it changed since the diff was written (CONFLICT), and
keeps the text before and after so ``revert`` restores it exactly, again only when nobody
changed the file in between. Editing the diff re-validates it and drops a previous approval.

Write functions flush but never commit: call them inside a transaction. The provider write
happens before the flush, so a failed write leaves the row as it was when the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.models import Session, SyncSource
from observatory.improve import diffs
from observatory.improve.compare import METRICS, MetricComparison, Window, compare_periods
from observatory.improve.models import ImprovementProposal, ProposalStatus
from observatory.sync.runner import default_files
from observatory.sync.source import AgentFiles


class ProposalNotFound(LookupError):
    pass


class ProposalConflict(RuntimeError):
    """The proposal is in the wrong state, or the file changed under it."""


class ReadOnlySource(RuntimeError):
    """The agent's files cannot be written from here: download the patch instead."""


@dataclass(frozen=True)
class ProposalImpact:
    before: Window
    after: Window
    complete: bool  # the "after" window has fully elapsed; before that, too early to tell
    metrics: list[MetricComparison]


async def files_for_agent(db: AsyncSession, agent_id: str) -> tuple[AgentFiles | None, int | None]:
    """The file access of the source that most recently synced the agent's sessions."""
    source = await db.scalar(
        select(SyncSource)
        .join(Session, Session.source_id == SyncSource.id)
        .where(Session.agent_id == agent_id)
        .order_by(Session.synced_at.desc().nulls_last(), Session.id.desc())
        .limit(1)
    )
    if source is None:
        return None, None
    return default_files(source.kind, source.config or {}), source.id


def rank_key(p: ImprovementProposal) -> tuple[int, Decimal, int]:
    return (
        p.sessions_affected,
        p.cost_at_stake if p.cost_at_stake is not None else Decimal(-1),
        p.id,
    )


async def list_proposals(
    db: AsyncSession,
    *,
    status: ProposalStatus | None = None,
    agent_id: str | None = None,
    first: int = 50,
    after: tuple[int, Decimal, int] | None = None,
) -> list[ImprovementProposal]:
    """Ranked by the evidence behind them (sessions affected, then cost at stake, unknown cost
    last), newest first among equals; keyset on that triple (pass the last row's ``rank_key``)."""
    P = ImprovementProposal
    cost = func.coalesce(P.cost_at_stake, -1)
    q = select(P).order_by(P.sessions_affected.desc(), cost.desc(), P.id.desc()).limit(first)
    if status is not None:
        q = q.where(P.status == status.value)
    if agent_id:
        q = q.where(P.agent_id == agent_id)
    if after is not None:
        q = q.where(tuple_(P.sessions_affected, cost, P.id) < tuple_(*after))
    return list(await db.scalars(q))


async def get(db: AsyncSession, proposal_id: int, *, lock: bool = False) -> ImprovementProposal:
    row = await db.get(ImprovementProposal, proposal_id, with_for_update=lock)
    if row is None:
        raise ProposalNotFound(f"proposal {proposal_id} not found")
    return row


def _expect(row: ImprovementProposal, *allowed: ProposalStatus) -> None:
    if row.status not in {s.value for s in allowed}:
        wanted = " or ".join(s.value for s in allowed)
        raise ProposalConflict(f"proposal {row.id} is {row.status}, not {wanted}")


def _touch(row: ImprovementProposal) -> None:
    row.updated_at = datetime.now(UTC)


async def edit_diff(db: AsyncSession, proposal_id: int, diff: str) -> ImprovementProposal:
    """Replace the diff (a human's edit); it must apply to the text it was written against.
    A previous approval is dropped: the new text needs its own."""
    row = await get(db, proposal_id, lock=True)
    _expect(row, ProposalStatus.PROPOSED, ProposalStatus.APPROVED, ProposalStatus.INVALID)
    if row.base_text is None:
        raise ProposalConflict(f"proposal {row.id} has no file text to apply a diff to")
    diffs.apply(diff, row.base_text, name=row.file_name)  # DiffError: the reason
    row.diff = diff if diff.endswith("\n") else diff + "\n"
    row.status, row.error = ProposalStatus.PROPOSED.value, None
    row.approved_at = row.approved_by_api_key_id = None
    _touch(row)
    await db.flush()
    return row


async def approve(
    db: AsyncSession, proposal_id: int, *, api_key_id: int | None
) -> ImprovementProposal:
    row = await get(db, proposal_id, lock=True)
    _expect(row, ProposalStatus.PROPOSED)
    row.status = ProposalStatus.APPROVED.value
    row.approved_at, row.approved_by_api_key_id = datetime.now(UTC), api_key_id
    _touch(row)
    await db.flush()
    return row


async def dismiss(
    db: AsyncSession, proposal_id: int, *, api_key_id: int | None
) -> ImprovementProposal:
    row = await get(db, proposal_id, lock=True)
    _expect(row, ProposalStatus.PROPOSED, ProposalStatus.APPROVED, ProposalStatus.INVALID)
    row.status = ProposalStatus.DISMISSED.value
    _touch(row)
    await db.flush()
    return row


async def _writable_store(db: AsyncSession, row: ImprovementProposal) -> AgentFiles:
    store, _ = await files_for_agent(db, row.agent_id)
    if store is None or not store.writable:
        raise ReadOnlySource(
            f"the files of agent {row.agent_id} are read-only here: download the patch"
        )
    return store


async def apply(
    db: AsyncSession,
    proposal_id: int,
    *,
    api_key_id: int | None,
    store: AgentFiles | None = None,
) -> ImprovementProposal:
    """Write an approved proposal to the agent's file; records who, when, before and after."""
    row = await get(db, proposal_id, lock=True)
    _expect(row, ProposalStatus.APPROVED)
    store = store or await _writable_store(db, row)
    try:
        current = await store.read(row.agent_id, row.file_name)
        if current is None:
            raise ProposalConflict(f"{row.file_name} no longer exists for agent {row.agent_id}")
        if current != row.base_text:
            raise ProposalConflict(
                f"{row.file_name} changed since the proposal was written: synthesize again"
            )
        after = diffs.apply(row.diff, current, name=row.file_name)
        await store.write(row.agent_id, row.file_name, after)
    finally:
        await store.aclose()
    row.before_text, row.after_text = current, after
    row.status = ProposalStatus.APPLIED.value
    row.applied_at, row.applied_by_api_key_id = datetime.now(UTC), api_key_id
    row.reverted_at = row.reverted_by_api_key_id = None
    _touch(row)
    await db.flush()
    return row


async def revert(
    db: AsyncSession,
    proposal_id: int,
    *,
    api_key_id: int | None,
    store: AgentFiles | None = None,
) -> ImprovementProposal:
    """Put back the exact text from before the apply (refused when the file moved on since)."""
    row = await get(db, proposal_id, lock=True)
    _expect(row, ProposalStatus.APPLIED)
    assert row.before_text is not None and row.after_text is not None
    store = store or await _writable_store(db, row)
    try:
        current = await store.read(row.agent_id, row.file_name)
        if current != row.after_text:
            raise ProposalConflict(
                f"{row.file_name} changed after the apply; revert it by hand from the patch"
            )
        await store.write(row.agent_id, row.file_name, row.before_text)
    finally:
        await store.aclose()
    row.status = ProposalStatus.REVERTED.value
    row.reverted_at, row.reverted_by_api_key_id = datetime.now(UTC), api_key_id
    _touch(row)
    await db.flush()
    return row


async def impact(
    db: AsyncSession,
    row: ImprovementProposal,
    *,
    window: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> ProposalImpact | None:
    """Before/after comparison on the target metrics since the apply (None: never applied)."""
    if row.applied_at is None:
        return None
    current = now or datetime.now(UTC)
    applied = row.applied_at
    before = Window(applied - window, applied)
    after = Window(applied, max(applied, min(applied + window, current)))
    if after.end <= after.start:
        return ProposalImpact(before, after, complete=False, metrics=[])
    metrics = [m for m in row.target_metrics or [] if m in METRICS] or list(METRICS)
    result = await compare_periods(db, before, after, agent_id=row.agent_id, metrics=metrics)
    return ProposalImpact(
        before, after, complete=current >= applied + window,
        metrics=result.groups[0].metrics if result.groups else [],
    )  # fmt: skip
