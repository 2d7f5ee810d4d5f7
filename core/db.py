"""Database engine lifecycle and the per-request transaction.

Piccolo keeps the current transaction in a context variable; opening it in a Litestar
yield-dependency (rather than `async with` around the handler) makes it commit after the
handler returned and roll back when anything raised, before the response is sent.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from core.settings import get_settings

log = logging.getLogger("gongzhi.db")
# Callbacks to run once the request's transaction committed (see `after_commit`).
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


def db() -> PostgresEngine:
    engine = engine_finder()
    if engine is None:  # pragma: no cover - misconfiguration
        raise RuntimeError("Piccolo engine not configured (PICCOLO_CONF)")
    return engine  # type: ignore[return-value]


def configure_engine() -> PostgresEngine:
    """Point the engine at the current DATABASE_URL (it may be set after import)."""
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set and no embedded server was started")
    engine = db()
    engine.config = {"dsn": settings.database_url}
    return engine


async def start_pool() -> None:
    settings = get_settings()
    engine = configure_engine()
    await engine.start_connection_pool(min_size=settings.db_pool_min, max_size=settings.db_pool_max,
                                       reset=keep_session)


async def keep_session(conn: object) -> None:
    """asyncpg's pool `reset`: nothing. Its default sends one more statement on every release
    (unlock advisory locks, CLOSE ALL, UNLISTEN, RESET ALL), a round trip per query made
    outside a transaction; we never leave such session state behind (advisory locks are
    transaction-scoped, no LISTEN, no session SET). asyncpg still rolls back a transaction
    left open before this runs."""


async def close_pool() -> None:
    engine = db()
    if engine.pool is not None:
        await engine.close_connection_pool()


async def provide_transaction() -> AsyncGenerator[PostgresTransaction, None]:
    """Litestar dependency `tx`: one transaction per request, committed at the boundary."""
    async with request_transaction() as tx:
        yield tx


@asynccontextmanager
async def request_transaction() -> AsyncIterator[PostgresTransaction]:
    """The request's transaction: committed when the block ends, rolled back on any error;
    after-commit callbacks run once it has committed. `provide_transaction` is the usual way in;
    a route whose other dependencies must be checked before a connection is taken provides `tx`
    itself with this (Litestar leaves a started dependency unclosed when a later one fails)."""
    tx = db().transaction()
    callbacks: list[Callable[[], None]] = []
    token = _after_commit.set(callbacks)
    await tx.__aenter__()
    try:
        yield tx
    except BaseException as exc:
        await _leave(tx, exc)
        raise
    else:
        await tx.__aexit__(None, None, None)
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the change is committed: a hook must not turn it into a 500
                log.exception("after-commit callback %r failed", callback)
    finally:
        try:
            _after_commit.reset(token)
        except ValueError:
            pass  # finalised outside the request's context (see _leave): nothing to restore


async def _leave(tx: PostgresTransaction, exc: BaseException) -> None:
    """Roll back after an error. When the request was abandoned (the client went away before
    Litestar closed its dependencies), Python finalises this generator later in another
    context: the rollback and the connection's release still happen, only resetting the
    transaction's context variable fails, which is harmless there."""
    try:
        await tx.__aexit__(type(exc), exc, exc.__traceback__)
    except ValueError as err:
        if "different Context" not in str(err):
            raise
        log.debug("request transaction rolled back outside its context (client gone)")


def after_commit(callback: Callable[[], None]) -> None:
    """Call `callback` (synchronous, quick) once the request's transaction has committed; never
    when it rolls back. Outside a request (jobs, scripts) nobody commits for us, so it is
    dropped: callers must not depend on it for correctness, only for promptness."""
    callbacks = _after_commit.get()
    if callbacks is not None and callback not in callbacks:
        callbacks.append(callback)


def in_transaction() -> bool:
    return db().current_transaction.get() is not None


def require_transaction() -> None:
    """Writes must run inside the request's or job's transaction."""
    if not in_transaction():
        raise RuntimeError("write outside a transaction: request the `tx` dependency")


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL (asyncpg `$n` placeholders) on the current transaction, else the pool.

    Only repositories call this, for queries the query builder expresses poorly
    (recursive scopes, locks, aggregates).
    """
    engine = db()
    tx = engine.current_transaction.get()
    if tx is not None:
        rows = await tx.connection.fetch(sql, *args)
    elif engine.pool is not None:
        async with engine.pool.acquire() as conn:
            try:
                rows = await conn.fetch(sql, *args)
            except asyncpg.exceptions.InternalClientError:
                # The connection's protocol was left mid-operation (the server went away during
                # an earlier query): drop it so the pool opens a fresh one, and let the caller
                # see an unavailable dependency (core.problems answers 503, retry).
                conn.terminate()
                raise
    else:
        conn = await engine.get_new_connection()
        try:
            rows = await conn.fetch(sql, *args)
        finally:
            await conn.close()
    return [dict(r) for r in rows]


async def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script (migrations' raw DDL)."""
    engine = db()
    tx = engine.current_transaction.get()
    if tx is not None:
        await tx.connection.execute(sql)
        return
    conn = await engine.get_new_connection()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
