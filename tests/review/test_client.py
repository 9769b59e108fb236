from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from observatory.review.client import ChatClient, ChatError, parse_retry_after, price
from tests.review.stub_model import StubModel

MESSAGES = [{"role": "user", "content": "hi"}]


def test_price_is_none_without_usage_or_prices() -> None:
    assert price(1000, 100, Decimal("2"), Decimal("10")) == Decimal("0.00300000")
    assert price(None, None, Decimal("2"), Decimal("10")) is None
    assert price(1000, 100, Decimal(0), Decimal(0)) is None


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.25") == 0.25
    date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_429_and_500_back_off_honouring_retry_after(stub: StubModel) -> None:
    delays: list[float] = []

    async def sleep(s: float) -> None:
        delays.append(s)

    stub.script[:] = ["429", "500", "valid"]
    stub.retry_after = "3"
    async with ChatClient(
        stub.url, "m", backoff_base_s=0.5, sleep=sleep, requests_per_minute=0
    ) as client:
        result = await client.complete(MESSAGES)
    assert result.attempts == 3 and result.input_tokens == 1000 and result.output_tokens == 200
    assert delays[0] == pytest.approx(3.0, abs=0.05)  # Retry-After honoured (endpoint paused)
    assert 0.25 <= delays[1] <= 0.5 * 2  # exponential backoff with jitter for the 500
    assert len(stub.requests) == 3
    assert stub.requests[0]["response_format"] == {"type": "json_object"}


async def test_gives_up_after_max_retries(stub: StubModel) -> None:
    async def sleep(_s: float) -> None:
        return None

    stub.default = "500"
    async with ChatClient(stub.url, "m", max_retries=2, sleep=sleep) as client:
        with pytest.raises(ChatError) as info:
            await client.complete(MESSAGES)
    assert info.value.status == 500 and info.value.retryable
    assert len(stub.requests) == 3


async def test_client_error_is_not_retried_and_json_mode_falls_back() -> None:
    calls: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        calls.append(body)
        if "response_format" in body:
            return httpx.Response(400, json={"error": "response_format not supported"})
        if len(calls) == 2:
            return httpx.Response(401, json={"error": "bad key"})
        raise AssertionError("not reached")

    client = ChatClient(
        "http://x/v1", "m", requests_per_minute=0, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(ChatError) as info:
        await client.complete(MESSAGES)
    await client.aclose()
    assert info.value.status == 401 and not info.value.retryable
    assert len(calls) == 2 and "response_format" not in calls[1]


async def test_concurrency_limit_per_endpoint(stub: StubModel) -> None:
    import asyncio

    stub.delay_s = 0.05
    inside = peak = 0
    async with ChatClient(stub.url, "m", max_concurrency=2, requests_per_minute=0) as client:
        post = client._http.post

        async def counting_post(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal inside, peak
            inside += 1
            peak = max(peak, inside)
            try:
                return await post(*args, **kwargs)
            finally:
                inside -= 1

        client._http.post = counting_post  # type: ignore[method-assign]
        await asyncio.gather(*(client.complete(MESSAGES) for _ in range(6)))
    assert peak == 2 and len(stub.requests) == 6


async def test_rate_limit_spaces_requests() -> None:
    from observatory.review.client import RateLimiter

    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    limiter = RateLimiter(requests_per_minute=600, sleep=sleep)  # one every 0.1 s
    for _ in range(3):
        await limiter.acquire()
    assert len(waits) == 2 and all(0.05 < w <= 0.2 for w in waits)
