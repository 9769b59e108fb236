from __future__ import annotations

import json

import pytest

from observatory.db.enums import Verdict
from observatory.review.reviewer import MalformedAnswer, parse_answer
from tests.review.stub_model import VALID_ANSWER

REFS = {"#1": 11, "#2": 12}


def test_valid_answer_resolves_message_references() -> None:
    answer = parse_answer(json.dumps(VALID_ANSWER), REFS)
    assert answer.verdict is Verdict.ACCOMPLISHED and answer.rating == 4
    assert [(e.message, e.message_id) for e in answer.evidence] == [("#1", 11), ("#2", 12)]
    assert answer.suggestions[0].target == "task_execution"


def test_tolerates_fences_and_loose_references() -> None:
    raw = dict(VALID_ANSWER, rating="5", evidence=[{"message": "m2"}, 1, "#99"])
    answer = parse_answer("```json\n" + json.dumps(raw) + "\n```", REFS)
    assert answer.rating == 5
    assert [(e.message, e.message_id) for e in answer.evidence] == [
        ("#2", 12),
        ("#1", 11),
        ("#99", None),  # cited but not shown: kept, unresolved
    ]


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"verdict": "great"}, "verdict"),
        ({"rating": 9}, "rating"),
        ({"rating": 3.5}, "rating"),
        ({"confidence": 85}, "confidence"),
        ({"summary": ""}, "summary"),
        ({"evidence": "lots"}, "evidence"),
    ],
)
def test_schema_violations_are_explained(patch: dict[str, object], needle: str) -> None:
    with pytest.raises(MalformedAnswer, match=needle):
        parse_answer(json.dumps({**VALID_ANSWER, **patch}), REFS)


def test_not_json() -> None:
    with pytest.raises(MalformedAnswer, match="JSON"):
        parse_answer('{"verdict": "failed", ', REFS)
    with pytest.raises(MalformedAnswer, match="object"):
        parse_answer("[1, 2]", REFS)
