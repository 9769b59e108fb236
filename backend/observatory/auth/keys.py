"""API keys: ``obs_<prefix>_<secret>``; only the prefix and a SHA-256 hash are stored.

Keys are 256-bit random, so a fast hash is sufficient (no password-style KDF needed) and lets
every request verify a key with one indexed lookup.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from observatory.auth.scopes import Scope, scopes_for
from observatory.db.enums import Role
from observatory.db.models import ApiKey

KEY_PREFIX = "obs"


@dataclass(frozen=True)
class Caller:
    key_id: int
    name: str
    role: Role
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    role: Role
    prefix: str
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_secret() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


async def create_key(db: AsyncSession, name: str, role: Role) -> NewKey:
    prefix, secret = generate_secret()
    row = ApiKey(name=name, role=role, prefix=prefix, hash=hash_secret(secret))
    db.add(row)
    await db.flush()
    return NewKey(id=row.id, name=name, role=role, prefix=prefix, secret=secret)


async def revoke_key(db: AsyncSession, key_id: int) -> bool:
    result = await db.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiKey.id)
    )
    return result.scalar_one_or_none() is not None


class KeyResolver:
    """Resolves a bearer secret to a Caller; batches last_used_at writes (at most one per key
    per ``touch_interval_s``), so authentication costs no write on the request path.

    Resolved keys are cached for ``cache_s``; a trigger on ``api_keys`` NOTIFYs every change
    (migration 0035) and ``invalidate`` drops the key at once, so a revocation takes effect
    within the NOTIFY latency (milliseconds), and within ``cache_s`` if the listener is down.
    """

    CACHE_MAX = 10_000  # entries; the cache is cleared when full (keys are few, secrets random)

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        touch_interval_s: float = 60.0,
        cache_s: float = 30.0,
    ) -> None:
        self._factory = session_factory
        self._touch_interval = touch_interval_s
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Caller | None]] = {}
        self._pending: dict[int, datetime] = {}
        self._last_flush: dict[int, float] = {}
        self._flush_task: asyncio.Task[None] | None = None

    async def resolve(self, secret: str | None) -> Caller | None:
        if not secret or not secret.startswith(f"{KEY_PREFIX}_") or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            caller = hit[1]
        else:
            caller = await self._lookup(ApiKey.hash == digest)
            if len(self._cache) >= self.CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (now + self._cache_s, caller)
        if caller is not None:
            self._touch(caller.key_id)
        return caller

    async def current(self, key_id: int) -> Caller | None:
        """The key as it is now in the database (None once revoked or deleted)."""
        return await self._lookup(ApiKey.id == key_id)

    def invalidate(self, key_ids: Iterable[int]) -> None:
        ids = set(key_ids)
        for digest, (_, caller) in list(self._cache.items()):
            if caller is not None and caller.key_id in ids:
                self._cache.pop(digest, None)

    async def _lookup(self, condition: ColumnElement[bool]) -> Caller | None:
        async with self._factory() as db:
            row = (
                await db.execute(
                    select(ApiKey.id, ApiKey.name, ApiKey.role).where(
                        condition, ApiKey.revoked_at.is_(None)
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        return Caller(key_id=row.id, name=row.name, role=row.role, scopes=scopes_for(row.role))

    def _touch(self, key_id: int) -> None:
        self._pending[key_id] = datetime.now(UTC)
        now = time.monotonic()
        if now - self._last_flush.get(key_id, 0.0) < self._touch_interval:
            return
        self._last_flush[key_id] = now
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        async with self._factory() as db, db.begin():
            for key_id, used_at in pending.items():
                await db.execute(
                    update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used_at)
                )
