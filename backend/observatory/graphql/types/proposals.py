"""GraphQL types of AI-written proposals (observatory.improve.proposals)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import strawberry
from strawberry.types import Info

from observatory.graphql.errors import BadUserInput
from observatory.graphql.types.improve import MetricComparison, SuggestionImpact
from observatory.graphql.types.scalars import JSON
from observatory.improve import proposals
from observatory.improve.models import ImprovementProposal, ProposalStatus

strawberry.enum(
    ProposalStatus,
    description="proposed → approved → applied → reverted; invalid: failed validation; dismissed.",
)


@strawberry.type(description="An AI-written edit to one of an agent's own files (a unified diff).")
class Proposal:
    id: strawberry.ID
    agent_id: str
    file_name: str
    title: str
    rationale: str
    diff: str = strawberry.field(description="Unified diff against `baseText`.")
    base_text: str | None = strawberry.field(description="The file's text when proposed.")
    status: ProposalStatus
    error: str | None = strawberry.field(description="Why the answer failed validation.")
    writable: bool = strawberry.field(
        description="The source can write the agent's files; otherwise download the patch."
    )
    evidence: JSON
    target_metrics: list[str]
    sessions_affected: int
    cost_at_stake: Decimal | None
    model: str | None
    period_from: datetime
    period_to: datetime
    created_at: datetime
    approved_at: datetime | None
    applied_at: datetime | None
    reverted_at: datetime | None
    before_text: str | None = strawberry.field(description="The file before the apply.")
    after_text: str | None = strawberry.field(description="The file after the apply.")

    @classmethod
    def build(cls, p: ImprovementProposal) -> Proposal:
        return cls(
            id=strawberry.ID(str(p.id)), agent_id=p.agent_id, file_name=p.file_name,
            title=p.title, rationale=p.rationale, diff=p.diff, base_text=p.base_text,
            status=ProposalStatus(p.status), error=p.error, writable=p.writable,
            evidence=dict(p.evidence or {}), target_metrics=list(p.target_metrics or []),
            sessions_affected=p.sessions_affected, cost_at_stake=p.cost_at_stake, model=p.model,
            period_from=p.period_start, period_to=p.period_end, created_at=p.created_at,
            approved_at=p.approved_at, applied_at=p.applied_at, reverted_at=p.reverted_at,
            before_text=p.before_text, after_text=p.after_text,
        )  # fmt: skip

    @strawberry.field(description="Keyset position in the ranked list: pass as `after`.")
    def cursor(self) -> str:
        cost = self.cost_at_stake if self.cost_at_stake is not None else -1
        return f"{self.sessions_affected}:{cost}:{self.id}"

    @strawberry.field(description="The diff as a patch file (for `patch -p1` in the workspace).")
    def patch(self) -> str:
        return self.diff

    @strawberry.field(
        description="Measured effect since the apply on the target metrics (null until applied); "
        "`complete` is false while it is too early to tell."
    )
    async def impact(self, info: Info, window_days: int = 7) -> SuggestionImpact | None:
        if self.applied_at is None:
            return None
        if not 1 <= window_days <= 90:
            raise BadUserInput("windowDays must be between 1 and 90", field="windowDays")
        async with info.context.db() as db:
            row = await proposals.get(db, int(self.id))
            i = await proposals.impact(db, row, window=timedelta(days=window_days))
        if i is None:
            return None
        return SuggestionImpact(
            before_from=i.before.start, before_to=i.before.end, after_from=i.after.start,
            after_to=i.after.end, complete=i.complete,
            metrics=[MetricComparison.build(m) for m in i.metrics],
        )  # fmt: skip
