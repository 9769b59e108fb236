"""A judge that learns from humans: past disagreements become few-shot calibration examples.

For the agent under review, the most recent targets where a human's verdict differs from the
AI's (latest of each) are shown to the model as "the AI said X, a human corrected it to Y,
because ...". They go in the prompt within a fixed share of its token budget (never the
transcript's room), and the review records which human reviews calibrated it
(``evidence.calibration_review_ids``), so ``judgeAgreement`` can show agreement before and
after calibration. The target itself is never its own example.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from observatory.review.prompt import cut_text, estimate_tokens

MAX_EXAMPLES = 3
BUDGET_SHARE = 8  # at most 1/8 of the prompt budget

_DISAGREEMENTS = text(
    """
    WITH human AS (
      SELECT DISTINCT ON (session_id, coalesce(run_id, 0)) id, session_id, run_id, verdict,
             rating, summary, created_at
      FROM reviews WHERE reviewer_kind = 'human'
      ORDER BY session_id, coalesce(run_id, 0), created_at DESC, id DESC
    ), ai AS (
      SELECT DISTINCT ON (session_id, coalesce(run_id, 0)) session_id, run_id, verdict, summary
      FROM reviews WHERE reviewer_kind = 'ai'
      ORDER BY session_id, coalesce(run_id, 0), created_at DESC, id DESC
    )
    SELECT h.id AS review_id, s.title, s.kind, (h.run_id IS NOT NULL) AS is_run,
           a.verdict AS ai_verdict, a.summary AS ai_summary,
           h.verdict AS human_verdict, h.summary AS human_summary
    FROM human h
    JOIN ai a ON a.session_id = h.session_id AND coalesce(a.run_id, 0) = coalesce(h.run_id, 0)
    JOIN sessions s ON s.id = h.session_id
    WHERE s.agent_id = :agent AND a.verdict <> h.verdict
      AND NOT (h.session_id = :session AND coalesce(h.run_id, 0) = coalesce(:run, 0))
    ORDER BY (h.run_id IS NOT NULL) = (CAST(:run AS bigint) IS NOT NULL) DESC,
             h.created_at DESC, h.id DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class Example:
    review_id: int  # the human review
    title: str | None
    target: str  # "session" | "run"
    ai_verdict: str
    ai_summary: str
    human_verdict: str
    human_summary: str


@dataclass(frozen=True)
class Calibration:
    text: str  # the prompt section ("" when there is nothing to show)
    review_ids: list[int]  # the human reviews shown


async def disagreements(
    db: AsyncSession, agent_id: str, session_id: int, run_id: int | None
) -> list[Example]:
    """Recent human corrections of the AI for this agent, same kind of target first."""
    rows = await db.execute(
        _DISAGREEMENTS,
        {"agent": agent_id, "session": session_id, "run": run_id, "limit": MAX_EXAMPLES},
    )
    return [
        Example(
            review_id=r.review_id,
            title=r.title,
            target="run" if r.is_run else "session",
            ai_verdict=str(r.ai_verdict),
            ai_summary=r.ai_summary or "",
            human_verdict=str(r.human_verdict),
            human_summary=r.human_summary or "",
        )
        for r in rows
    ]


def render(examples: list[Example], budget: int) -> Calibration:
    """The examples that fit in ``budget // BUDGET_SHARE`` tokens, most recent first."""
    room = budget // BUDGET_SHARE
    head = (
        "## Calibration: earlier reviews of this agent that a human corrected\n"
        "Judge like the humans did in these cases.\n"
    )
    parts, ids, used = [head], [], estimate_tokens(head)
    per = max(40, room // max(1, len(examples)) - 30)
    for e in examples:
        block = (
            f"- {e.target} “{(e.title or '').strip()[:80]}”: the AI said {e.ai_verdict} "
            f"({cut_text(e.ai_summary, per // 2)}); a human said {e.human_verdict}: "
            f"{cut_text(e.human_summary, per // 2)}\n"
        )
        cost = estimate_tokens(block)
        if used + cost > room:
            break
        parts.append(block)
        ids.append(e.review_id)
        used += cost
    return Calibration("".join(parts) if ids else "", ids)
