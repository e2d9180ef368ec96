"""The bare stack, for comparison: FastAPI + asyncpg, one query a request and nothing else.

GET /rows reads 20 rows; POST /rows inserts a task as a create would store it (its title from the
body, one owner's personal project, a place of its own on the board) and returns the row."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel, Field

DSN = os.environ["BASELINE_DSN"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=2, max_size=10)
    async with app.state.pool.acquire() as connection:
        app.state.owner = await connection.fetchval("SELECT id FROM users ORDER BY email LIMIT 1")
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


class NewRow(BaseModel):
    title: str = Field(min_length=1, max_length=100)


INSERT = (
    "INSERT INTO tasks (id, title, description, status, priority, created_by_id, project_id, "
    "position, version, created_at, updated_at) "
    "VALUES ($1, $2, '', 'pending', 'medium', $3, $3, $4, 1, now(), now()) "
    "RETURNING id::text, title, description, status, priority, due_date, created_by_id::text, "
    "project_id::text, position, version, created_at, updated_at"
)


@app.post("/rows", status_code=201)
async def create_row(row: NewRow) -> dict[str, Any]:
    new_id = uuid.uuid4()
    async with app.state.pool.acquire() as connection:
        record = await connection.fetchrow(INSERT, new_id, row.title, app.state.owner, new_id.hex)
    return dict(record)


@app.get("/health/ready")
async def ready() -> dict[str, bool]:
    return {"ok": True}
