"""The ceiling for the case list: a bare ASGI app that runs the very SQL of GET /api/v1/cases
(built by cases.search.page_sql for the measured user's Scope) through a raw asyncpg pool and
returns msgspec Structs as JSON. No auth, no principal loading, no Litestar, no CaseOut mapping.

    DATABASE_URL=… BENCH_TENANT=1 BENCH_USER=8 BENCH_ORGS=14 uvicorn bench.ceiling_app:app

Query parameters understood: status, overdue=true, cursor (the endpoint's cursor), limit.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases import search  # noqa: E402
from cases.case_repository import Scope  # noqa: E402
from core.db import keep_session  # noqa: E402  (the app's pool settings: no reset round trip)

SCOPE = Scope(int(os.environ.get("BENCH_TENANT", "1")), int(os.environ.get("BENCH_USER", "0")),
              tuple(int(o) for o in os.environ.get("BENCH_ORGS", "").split(",") if o), (), False)
_pool: asyncpg.Pool | None = None
_struct: Any = None


class Page(msgspec.Struct):
    items: list[Any]
    next_cursor: str | None


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=lambda v: msgspec.json.encode(v).decode(),
                              decoder=msgspec.json.decode, schema="pg_catalog")


async def _page(query: dict[str, list[str]]) -> bytes:
    global _struct
    status = query.get("status", [None])[0]
    overdue = query.get("overdue", ["false"])[0] == "true"
    limit = int(query.get("limit", ["50"])[0])
    f = search.Filters(status=status, overdue_at=datetime.now(timezone.utc) if overdue else None)
    after = (search.decode_cursor("-created_at", query["cursor"][0]) if "cursor" in query
             else None)
    sql, args = search.page_sql(SCOPE, f, sort="-created_at", after=after, limit=limit)
    async with _pool.acquire() as conn:
        rows = await conn.fetch(sql, *args)
    if rows and _struct is None:
        _struct = msgspec.defstruct("CaseRow", [(k, Any) for k in rows[0].keys()])
    items = [_struct(*r.values()) for r in rows]
    more = len(rows) == limit
    return msgspec.json.encode(Page(items, search.encode_cursor("-created_at", dict(rows[-1]))
                                    if more else None))


async def app(scope: dict, receive: Any, send: Any) -> None:
    global _pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=8,
                                                  max_size=8, init=_init, reset=keep_session)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = await _page(parse_qs(scope["query_string"].decode()))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
