from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.review.prompt import build_prompt, cut_text, estimate_tokens
from observatory.review.transcript import TargetInfo, load_target, render_content
from tests.review.data import Builder, text_block

BUDGET = 6000


def _long_transcript(n: int) -> list[tuple[str, list[dict[str, object]]]]:
    rows: list[tuple[str, list[dict[str, object]]]] = [
        ("user", [text_block("Migrate the billing cron jobs to the new scheduler.")])
    ]
    for i in range(1, n - 1):
        if i % 2:
            rows.append(
                (
                    "assistant",
                    [
                        text_block(f"Step {i}: checking job {i}. " + "detail " * 20),
                        {"type": "tool_call", "id": f"c{i}", "name": "exec", "arguments": {"i": i}},
                    ],
                )
            )
        else:
            err = i % 500 == 0
            rows.append(
                (
                    "tool_result",
                    [
                        {
                            "type": "tool_result",
                            "tool_call_id": f"c{i - 1}",
                            "name": "exec",
                            "text": f"ENOENT: /etc/cron.d/job{i}" if err else f"ok {i}",
                            "is_error": err,
                        }
                    ],
                )
            )
    rows.append(("assistant", [text_block("All 12 cron jobs migrated; old crontab removed.")]))
    return rows


async def test_5000_message_transcript_stays_within_budget(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    rows = _long_transcript(5000)
    async with factory() as db, db.begin():
        b = Builder(db)
        sid = await b.session(title="Migrate cron jobs")
        rid = await b.run(sid, tool_calls=2499, tool_errors=9)
        await b.messages(
            sid,
            rows,
            run_id=rid,
            is_error=[
                any(bl.get("is_error") for bl in blocks)  # type: ignore[union-attr]
                for _r, blocks in rows
            ],
        )
    async with factory() as db:
        info, messages, total = await load_target(db, sid)
    assert total == 5000
    prompt = build_prompt(info, messages, total, budget=BUDGET)
    full = "\n".join(m["content"] for m in prompt.messages)
    assert prompt.estimated_tokens <= BUDGET
    assert estimate_tokens(full) <= BUDGET
    body = prompt.messages[1]["content"]
    # The ask, the outcome, the errors and explicit cut markers are all there.
    assert "Migrate the billing cron jobs" in body
    assert "All 12 cron jobs migrated" in body
    assert "ENOENT: /etc/cron.d/job500" in body
    gaps = re.findall(r"\[… ([\d,]+) messages? omitted here \(#(\d+) to #(\d+)\) …\]", body)
    assert gaps, "a long transcript must say where it was cut"
    shown = re.findall(r"^\[#(\d+) ", body, flags=re.M)
    omitted = sum(int(n.replace(",", "")) for n, _a, _b in gaps)
    assert len(set(shown)) + omitted == 5000  # every message is either shown or counted as cut
    assert prompt.shown_messages == len(set(shown)) and prompt.omitted_messages == omitted
    # Whole messages only: every shown message line carries its complete text.
    for line in body.splitlines():
        m = re.match(r"^\[#(\d+) (assistant|tool_result|user)", line)
        if m and m.group(2) == "assistant" and int(m.group(1)) < 5000:
            assert line.endswith(f"{'detail ' * 19}detail ") or "characters cut" in line
    # The end matters most: the last 50 messages are all shown.
    assert {str(i) for i in range(4951, 5001)} <= set(shown)


def test_single_huge_message_is_cut_with_a_marker() -> None:
    info = TargetInfo(1, None, "a", "task", "completed", "t", "k", None, None, None)
    from observatory.review.transcript import TranscriptMessage

    huge = "x" * 200_000
    msgs = [
        TranscriptMessage(1, 1, "user", "do it"),
        TranscriptMessage(2, 2, "assistant", huge),
        TranscriptMessage(3, 3, "assistant", "done"),
    ]
    prompt = build_prompt(info, msgs, budget=3000)
    assert prompt.estimated_tokens <= 3000
    assert "characters cut …]" in prompt.messages[1]["content"]
    assert prompt.cut_messages >= 1
    assert cut_text("short", 100) == "short"


def test_render_content_is_tolerant() -> None:
    assert render_content("plain") == ("plain", [])
    assert render_content({"text": "t"}) == ("t", [])
    text, errors = render_content(
        {
            "blocks": [
                {"type": "text", "text": "a"},
                {"type": "thinking", "text": "secret"},
                {"type": "tool_result", "name": "read", "text": "ENOENT", "is_error": True},
                {"type": "image", "url": "x"},
                "odd",
            ]
        }
    )
    assert "secret" not in text and "read ERROR: ENOENT" in text and "image" in text
    assert errors == [("read", "ENOENT")]
    assert render_content(None)[0] == "null"


def test_neutral_tool_call_and_result_are_rendered() -> None:
    text, errors = render_content(
        {"blocks": [{"type": "tool_result", "tool_call_id": "c1", "name": "read",
                     "is_error": True, "text": "ENOENT: no such file"}]}
    )  # fmt: skip
    assert errors == [("read", "ENOENT: no such file")]
    assert text == "← read ERROR: ENOENT: no such file"
    call, _ = render_content(
        {"blocks": [{"type": "tool_call", "id": "c1", "name": "read", "arguments": {}}]}
    )
    assert call.startswith("→ call read(")
