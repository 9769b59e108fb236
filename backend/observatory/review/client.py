"""OpenAI-compatible chat-completions client over httpx, with per-endpoint limits.

One ``ChatClient`` is one endpoint (base URL + model): it owns a concurrency semaphore and a
request-rate limiter, so every job that shares the client shares the limits. 429, 408, 5xx and
transport errors back off exponentially (with jitter), honouring ``Retry-After``; a 429 pauses the
whole endpoint, not just the request that got it. Other 4xx fail at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.settings import Settings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ChatError(Exception):
    """The endpoint did not produce an answer (after retries, when retryable)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class ChatResult:
    content: str
    model: str  # the configured model (stable for per-model metrics), not the server's echo
    input_tokens: int | None
    output_tokens: int | None
    cost: Decimal | None
    attempts: int


def price(
    input_tokens: int | None,
    output_tokens: int | None,
    input_per_mtok: Decimal,
    output_per_mtok: Decimal,
) -> Decimal | None:
    """USD for one call; None when usage is unknown or no price is configured (never a made-up 0)."""
    if input_tokens is None and output_tokens is None:
        return None
    if not input_per_mtok and not output_per_mtok:
        return None
    usd = (
        Decimal(input_tokens or 0) * input_per_mtok + Decimal(output_tokens or 0) * output_per_mtok
    ) / Decimal(1_000_000)
    return usd.quantize(Decimal("1e-8"))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Limiter(Protocol):
    async def acquire(self) -> None: ...

    async def pause(self, seconds: float) -> None: ...


class RateLimiter:
    """Spaces request starts at least ``60 / rpm`` seconds apart; ``pause`` holds everyone (in
    this process; ``ratelimit.SharedRateLimiter`` does the same across processes)."""

    def __init__(self, requests_per_minute: int, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._sleep = sleep

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
        if start > now:
            await self._sleep(start - now)


class ChatClient:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        price_input_per_mtok: Decimal = Decimal(0),
        price_output_per_mtok: Decimal = Decimal(0),
        max_concurrency: int = 2,
        requests_per_minute: int = 60,
        max_retries: int = 4,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        timeout_s: float = 120.0,
        json_mode: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        limiter: Limiter | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.price_input = price_input_per_mtok
        self.price_output = price_output_per_mtok
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.json_mode = json_mode
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(max(1, max_concurrency))
        self.limiter: Limiter = limiter or RateLimiter(requests_per_minute, sleep)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0), transport=transport
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        factory: async_sessionmaker[AsyncSession] | None = None,
        **overrides: Any,
    ) -> ChatClient:
        """A client for the configured endpoint; with a session ``factory`` its request rate is
        held in PostgreSQL, shared by every process (else per process)."""
        if not settings.ai_base_url:
            raise ValueError("AI review needs OBSERVATORY_AI_BASE_URL")
        if factory is not None and "limiter" not in overrides:
            from observatory.review.ratelimit import SharedRateLimiter

            overrides["limiter"] = SharedRateLimiter(
                factory,
                f"{settings.ai_base_url}#{settings.ai_model}",
                settings.ai_requests_per_minute,
                overrides.get("sleep", asyncio.sleep),
            )
        kwargs: dict[str, Any] = {
            "api_key": settings.ai_api_key,
            "price_input_per_mtok": settings.ai_price_input_per_mtok,
            "price_output_per_mtok": settings.ai_price_output_per_mtok,
            "max_concurrency": settings.ai_max_concurrency,
            "requests_per_minute": settings.ai_requests_per_minute,
        }
        kwargs.update(overrides)
        return cls(settings.ai_base_url, settings.ai_model, **kwargs)

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max_s)
        backoff = self.backoff_base_s * (2 ** (attempt - 1))
        return min(self.backoff_max_s, backoff) * random.uniform(0.5, 1.0)

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = 1200,
    ) -> ChatResult:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
        }
        if max_tokens:
            body["max_tokens"] = max_tokens
        attempt = 0
        json_mode = self.json_mode
        while True:
            attempt += 1
            if json_mode:
                body["response_format"] = {"type": "json_object"}
            else:
                body.pop("response_format", None)
            error: ChatError
            retry_after: float | None = None
            async with self._semaphore:
                await self.limiter.acquire()
                try:
                    response = await self._http.post(self.url, json=body)
                except httpx.TransportError as exc:
                    error = ChatError(f"{type(exc).__name__}: {exc}", retryable=True)
                else:
                    if response.status_code == 200:
                        return self._result(response, attempt)
                    error, retry_after = self._error(response)
                    if (
                        response.status_code == 400
                        and json_mode
                        and "response_format" in response.text
                    ):
                        # Some OpenAI-compatible servers reject JSON mode: ask without it.
                        json_mode = False
                        attempt -= 1
                        continue
            if not error.retryable or attempt > self.max_retries:
                raise error
            delay = self._delay(attempt, retry_after)
            log.info("chat endpoint %s: %s; retry %d in %.2fs", self.url, error, attempt, delay)
            if error.status == 429:
                await self.limiter.pause(delay)  # everyone waits, in acquire(); so does this retry
            else:
                await self._sleep(delay)

    def _error(self, response: httpx.Response) -> tuple[ChatError, float | None]:
        status = response.status_code
        detail = response.text[:300].strip()
        retryable = status in RETRYABLE_STATUS or status >= 500
        error = ChatError(f"HTTP {status}: {detail}", status=status, retryable=retryable)
        return error, parse_retry_after(response.headers.get("retry-after"))

    def _result(self, response: httpx.Response, attempts: int) -> ChatResult:
        try:
            data = response.json()
            message = data["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ChatError(f"not a chat-completions response: {exc!r}", status=200) from exc
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        usage = data.get("usage") if isinstance(data, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        inp = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
        out = _int(usage.get("completion_tokens", usage.get("output_tokens")))
        return ChatResult(
            content=content if isinstance(content, str) else "",
            model=self.model,
            input_tokens=inp,
            output_tokens=out,
            cost=price(inp, out, self.price_input, self.price_output),
            attempts=attempts,
        )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
