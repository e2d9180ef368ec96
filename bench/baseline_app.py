"""The bare stack, for comparison: FastAPI + asyncpg, one query returning 20 rows, nothing else."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI

DSN = os.environ["BASELINE_DSN"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=2, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/rows")
async def rows() -> list[dict[str, Any]]:
    async with app.state.pool.acquire() as connection:
        records = await connection.fetch(
            "SELECT id::text, title, status, priority, created_at FROM tasks LIMIT 20"
        )
    return [dict(record) for record in records]


@app.get("/health/ready")
async def ready() -> dict[str, bool]:
    return {"ok": True}
