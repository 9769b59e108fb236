"""Retry schedule and circuit breaker for one sync source, as pure functions of its state.

closed: sync every ``interval``; a failure retries after an exponential, jittered backoff.
After ``failure_threshold`` consecutive failures the circuit opens: no attempts until
``cooldown`` has passed, then one half-open probe; success closes it, failure re-opens it.
A ``Retry-After`` from the provider is honoured as a lower bound.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from observatory.db.enums import CircuitState


@dataclass(frozen=True)
class Policy:
    interval_s: float = 30.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    failure_threshold: int = 5
    cooldown_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: object) -> Policy:
        d = cls()
        return cls(
            interval_s=float(getattr(settings, "sync_interval_s", d.interval_s)),
            backoff_base_s=float(getattr(settings, "sync_backoff_base_s", d.backoff_base_s)),
            backoff_max_s=float(getattr(settings, "sync_backoff_max_s", d.backoff_max_s)),
            failure_threshold=int(
                getattr(settings, "circuit_failure_threshold", d.failure_threshold)
            ),
            cooldown_s=float(getattr(settings, "circuit_cooldown_s", d.cooldown_s)),
        )


@dataclass(frozen=True, slots=True)
class BreakerState:
    circuit_state: CircuitState = CircuitState.CLOSED
    consecutive_failures: int = 0
    circuit_opened_at: datetime | None = None
    next_attempt_at: datetime | None = None


def is_due(state: BreakerState, now: datetime) -> bool:
    return state.next_attempt_at is None or state.next_attempt_at <= now


def before_attempt(state: BreakerState, now: datetime) -> BreakerState:
    """An attempt on an open circuit whose cooldown is over is the half-open probe."""
    if state.circuit_state is CircuitState.OPEN and is_due(state, now):
        return replace(state, circuit_state=CircuitState.HALF_OPEN)
    return state


def after_success(state: BreakerState, now: datetime, policy: Policy) -> BreakerState:
    return BreakerState(
        circuit_state=CircuitState.CLOSED,
        consecutive_failures=0,
        circuit_opened_at=None,
        next_attempt_at=now + timedelta(seconds=policy.interval_s),
    )


def backoff_s(failures: int, policy: Policy, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter in [50%, 100%] of the capped exponential."""
    capped = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** max(0, failures - 1))
    return capped * (0.5 + 0.5 * (rng or random).random())


def after_failure(
    state: BreakerState,
    now: datetime,
    policy: Policy,
    *,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> BreakerState:
    failures = state.consecutive_failures + 1
    opens = state.circuit_state is CircuitState.HALF_OPEN or failures >= policy.failure_threshold
    if opens:
        delay = max(policy.cooldown_s, retry_after_s or 0.0)
        return BreakerState(
            circuit_state=CircuitState.OPEN,
            consecutive_failures=failures,
            circuit_opened_at=now,
            next_attempt_at=now + timedelta(seconds=delay),
        )
    delay = max(backoff_s(failures, policy, rng), retry_after_s or 0.0)
    return BreakerState(
        circuit_state=CircuitState.CLOSED,
        consecutive_failures=failures,
        circuit_opened_at=None,
        next_attempt_at=now + timedelta(seconds=delay),
    )
