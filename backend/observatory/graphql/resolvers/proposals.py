"""Queries and mutations of AI-written proposals: thin wrappers over observatory.improve.

Synthesis only writes our own table (scope ``reviews:write``, like the rule-based suggestions);
everything that can lead to a write on an agent (approve, edit, apply, revert) needs
``agents:write``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import strawberry
from strawberry.types import Info

from observatory.auth.scopes import Scope
from observatory.graphql.errors import BadUserInput, Conflict, NotFound, ObservatoryError
from observatory.graphql.pagination import page_size, parse_id
from observatory.graphql.permissions import scoped, scoped_mutation
from observatory.graphql.resolvers.common import caller_key_id
from observatory.graphql.resolvers.improve import From
from observatory.graphql.resolvers.metrics import check_metric_range
from observatory.graphql.types.proposals import Proposal
from observatory.improve import diffs, proposals, synthesis
from observatory.improve.models import ProposalStatus
from observatory.review.client import ChatClient
from observatory.sync.source import SourceError


class SourceFailed(ObservatoryError):
    code = "SOURCE_UNAVAILABLE"


@contextlib.contextmanager
def proposal_errors() -> Iterator[None]:
    try:
        yield
    except proposals.ProposalNotFound as exc:
        raise NotFound(str(exc)) from None
    except diffs.DiffError as exc:
        raise BadUserInput(str(exc), field="diff") from None
    except (proposals.ProposalConflict, proposals.ReadOnlySource) as exc:
        raise Conflict(str(exc)) from None
    except SourceError as exc:
        raise SourceFailed(f"the agent's provider refused or is unreachable: {exc}") from None


def _cursor(after: str | None) -> tuple[int, Decimal, int] | None:
    if after is None:
        return None
    try:
        sessions, cost, pid = after.split(":")
        return int(sessions), Decimal(cost), int(pid)
    except (ValueError, InvalidOperation):
        raise BadUserInput("after must be a proposal's cursor", field="after") from None


@strawberry.type
class ProposalQuery:
    @scoped(
        Scope.METRICS_READ,
        description="AI-written proposals ranked by the evidence behind them (sessions "
        "affected, then cost at stake).",
    )
    async def proposals(
        self,
        info: Info,
        status: ProposalStatus | None = None,
        agent_id: str | None = None,
        first: int | None = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The last proposal's `cursor`: the next page."),
        ] = None,
    ) -> list[Proposal]:
        limit = page_size(first, info.context.settings.max_page_size)
        async with info.context.db() as db:
            rows = await proposals.list_proposals(
                db, status=status, agent_id=agent_id, first=limit, after=_cursor(after)
            )
        return [Proposal.build(r) for r in rows]

    @scoped(Scope.METRICS_READ, description="One proposal.")
    async def proposal(self, info: Info, id: strawberry.ID) -> Proposal:
        async with info.context.db() as db:
            with proposal_errors():
                return Proposal.build(await proposals.get(db, parse_id(id)))


@strawberry.type
class ProposalMutation:
    @scoped_mutation(
        Scope.REVIEWS_WRITE,
        description="Ask the AI reviewer's model for one proposal per agent with failed or "
        "partial reviews in the period. Writes nothing to any agent.",
    )
    async def synthesize_proposals(
        self, info: Info, from_: From, to: datetime, agent_id: str | None = None
    ) -> list[Proposal]:
        check_metric_range(info, from_, to)
        settings = info.context.settings
        if not settings.ai_base_url:
            raise BadUserInput("no AI endpoint configured (OBSERVATORY_AI_BASE_URL)")
        async with ChatClient.from_settings(settings, info.context.db) as client:
            rows = await synthesis.synthesize(
                info.context.db, client, proposals.files_for_agent,
                since=from_, until=to, agent_id=agent_id,
                prompt_budget=settings.ai_prompt_token_budget,
            )  # fmt: skip
        return [Proposal.build(r) for r in rows]

    @scoped_mutation(
        Scope.AGENTS_WRITE,
        description="Replace a proposal's diff (it must apply); a previous approval is dropped.",
    )
    async def edit_proposal_diff(self, info: Info, id: strawberry.ID, diff: str) -> Proposal:
        if len(diff.encode()) > diffs.MAX_DIFF_BYTES:
            raise BadUserInput(f"diff is larger than {diffs.MAX_DIFF_BYTES} bytes", field="diff")
        async with info.context.db() as db, db.begin():
            with proposal_errors():
                return Proposal.build(await proposals.edit_diff(db, parse_id(id), diff))

    @scoped_mutation(Scope.AGENTS_WRITE, description="Approve a proposal for applying.")
    async def approve_proposal(self, info: Info, id: strawberry.ID) -> Proposal:
        async with info.context.db() as db, db.begin():
            with proposal_errors():
                row = await proposals.approve(db, parse_id(id), api_key_id=caller_key_id(info))
                return Proposal.build(row)

    @scoped_mutation(Scope.AGENTS_WRITE, description="Dismiss a proposal.")
    async def dismiss_proposal(self, info: Info, id: strawberry.ID) -> Proposal:
        async with info.context.db() as db, db.begin():
            with proposal_errors():
                row = await proposals.dismiss(db, parse_id(id), api_key_id=caller_key_id(info))
                return Proposal.build(row)

    @scoped_mutation(
        Scope.AGENTS_WRITE,
        description="Write an approved proposal to the agent's file through its provider; the "
        "text before and after is kept, and the impact measurement starts.",
    )
    async def apply_proposal(self, info: Info, id: strawberry.ID) -> Proposal:
        async with info.context.db() as db, db.begin():
            with proposal_errors():
                row = await proposals.apply(db, parse_id(id), api_key_id=caller_key_id(info))
                return Proposal.build(row)

    @scoped_mutation(
        Scope.AGENTS_WRITE, description="Put back the file's exact text from before the apply."
    )
    async def revert_proposal(self, info: Info, id: strawberry.ID) -> Proposal:
        async with info.context.db() as db, db.begin():
            with proposal_errors():
                row = await proposals.revert(db, parse_id(id), api_key_id=caller_key_id(info))
                return Proposal.build(row)
