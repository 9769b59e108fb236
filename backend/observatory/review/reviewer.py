"""The AI reviewer: ask the model, validate its answer against the schema, store the review.

A malformed answer is retried once with the validation error; a second malformed answer raises
``MalformedAnswer`` (the job fails with that reason). Tokens and cost add up over both attempts:
a retry is paid for too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from observatory.db.enums import ReviewerKind, Verdict
from observatory.db.models import Review
from observatory.monitoring.prom import count_ai_usage
from observatory.review.client import ChatClient
from observatory.review.prompt import Prompt

SUGGESTION_TARGETS = ("heartbeat_prompt", "task_execution", "tooling", "other")
MAX_SUMMARY = 2000
MAX_NOTE = 500


class MalformedAnswer(ValueError):
    """The model's answer does not match the review schema (message says why)."""


@dataclass(frozen=True)
class EvidenceItem:
    message: str  # "#12": ordinal in the target's transcript
    message_id: int | None  # None when the model cited a message it was not shown
    note: str


@dataclass(frozen=True)
class SuggestionItem:
    target: str
    text: str


@dataclass(frozen=True)
class ReviewAnswer:
    verdict: Verdict
    rating: int
    summary: str
    confidence: float
    evidence: list[EvidenceItem]
    suggestions: list[SuggestionItem]


@dataclass
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: Decimal | None = None
    calls: int = 0

    def add(self, inp: int | None, out: int | None, cost: Decimal | None) -> None:
        self.calls += 1
        if inp is not None:
            self.input_tokens = (self.input_tokens or 0) + inp
        if out is not None:
            self.output_tokens = (self.output_tokens or 0) + out
        if cost is not None:
            self.cost = (self.cost or Decimal(0)) + cost


@dataclass
class Generated:
    answer: ReviewAnswer
    usage: Usage = field(default_factory=Usage)
    model: str = ""


class ReviewFailed(Exception):
    """Reviewing failed for good (malformed twice); ``usage`` is what the attempts cost."""

    def __init__(self, reason: str, usage: Usage) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_REF = re.compile(r"^\s*(?:#|m|msg|message\s*)?(\d+)\s*$", re.IGNORECASE)


def _json_object(content: str) -> dict[str, Any]:
    text = _FENCE.sub("", content.strip())
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise MalformedAnswer("the answer is not a JSON object") from None
        try:
            data = json.loads(text[start : end + 1])
        except json.JSONDecodeError as exc:
            raise MalformedAnswer(f"the answer is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise MalformedAnswer("the answer must be a JSON object")
    return data


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def parse_answer(content: str, refs: Mapping[str, int | None]) -> ReviewAnswer:
    """Validate ``content`` against the review schema; ``MalformedAnswer`` lists every problem."""
    data = _json_object(content)
    problems: list[str] = []
    verdict_raw = str(data.get("verdict", "")).strip().lower()
    if verdict_raw not in {v.value for v in Verdict}:
        problems.append(
            f"verdict must be one of accomplished, partial, failed, unclear (got {data.get('verdict')!r})"
        )
    rating = _number(data.get("rating"))
    if rating is None or rating != int(rating) or not 1 <= rating <= 5:
        problems.append(f"rating must be an integer 1-5 (got {data.get('rating')!r})")
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("summary must be a non-empty string")
    confidence = _number(data.get("confidence"))
    if confidence is None or not 0 <= confidence <= 1:
        problems.append(f"confidence must be a number 0-1 (got {data.get('confidence')!r})")
    evidence_raw = data.get("evidence", [])
    if not isinstance(evidence_raw, list):
        problems.append("evidence must be a list")
        evidence_raw = []
    evidence: list[EvidenceItem] = []
    for item in evidence_raw[:8]:
        if isinstance(item, str | int):
            item = {"message": item, "note": ""}
        if not isinstance(item, dict):
            problems.append("each evidence item must be an object with message and note")
            break
        match = _REF.match(str(item.get("message", item.get("ref", ""))))
        if not match:
            problems.append(f"evidence message must look like '#12' (got {item.get('message')!r})")
            break
        ref = f"#{int(match.group(1))}"
        note = str(item.get("note") or "")[:MAX_NOTE]
        evidence.append(EvidenceItem(ref, refs.get(ref), note))
    suggestions_raw = data.get("suggestions") or []
    if not isinstance(suggestions_raw, list):
        problems.append("suggestions must be a list")
        suggestions_raw = []
    suggestions: list[SuggestionItem] = []
    for item in suggestions_raw[:5]:
        if isinstance(item, str):
            item = {"target": "other", "text": item}
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            problems.append("each suggestion must be an object with target and text")
            break
        target = str(item.get("target") or "other")
        suggestions.append(
            SuggestionItem(
                target if target in SUGGESTION_TARGETS else "other", str(item["text"])[:MAX_NOTE]
            )
        )
    if problems:
        raise MalformedAnswer("; ".join(problems))
    assert rating is not None and confidence is not None and isinstance(summary, str)
    return ReviewAnswer(
        verdict=Verdict(verdict_raw),
        rating=int(rating),
        summary=summary.strip()[:MAX_SUMMARY],
        confidence=round(confidence, 4),
        evidence=evidence,
        suggestions=suggestions,
    )


async def generate_review(client: ChatClient, prompt: Prompt) -> Generated:
    """Ask the model; retry once with the validation error. Raises ``ReviewFailed`` when the
    answer is malformed twice, ``ChatError`` when the endpoint fails."""
    usage = Usage()
    messages = list(prompt.messages)
    for attempt in (1, 2):
        result = await client.complete(messages)
        usage.add(result.input_tokens, result.output_tokens, result.cost)
        count_ai_usage(result.input_tokens, result.output_tokens, result.cost)
        try:
            answer = parse_answer(result.content, prompt.refs)
        except MalformedAnswer as exc:
            if attempt == 2:
                raise ReviewFailed(f"malformed answer after retry: {exc}", usage) from exc
            messages = [
                *prompt.messages,
                {"role": "assistant", "content": result.content[:4000]},
                {
                    "role": "user",
                    "content": f"Your answer was not valid: {exc}. Reply again with only the "
                    "JSON object described in the instructions.",
                },
            ]
            continue
        return Generated(answer=answer, usage=usage, model=result.model)
    raise AssertionError("unreachable")


async def store_ai_review(
    db: AsyncSession,
    *,
    session_id: int,
    run_id: int | None,
    generated: Generated,
    api_key_id: int | None = None,
    calibration_review_ids: list[int] | None = None,
) -> Review:
    """Insert the review row (caller commits); ``calibration_review_ids``: the human reviews
    shown to the model as calibration examples."""
    a = generated.answer
    review = Review(
        session_id=session_id,
        run_id=run_id,
        verdict=a.verdict,
        rating=a.rating,
        summary=a.summary,
        reviewer_kind=ReviewerKind.AI,
        reviewer_model=generated.model,
        confidence=a.confidence,
        evidence={
            "items": [
                {"message": e.message, "message_id": e.message_id, "note": e.note}
                for e in a.evidence
            ],
            "calibration_review_ids": list(calibration_review_ids or []),
        },
        suggestions={"items": [{"target": s.target, "text": s.text} for s in a.suggestions]},
        input_tokens=generated.usage.input_tokens,
        output_tokens=generated.usage.output_tokens,
        cost=generated.usage.cost,
        created_by_api_key_id=api_key_id,
    )
    db.add(review)
    await db.flush()
    return review
