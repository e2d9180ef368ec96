"""The application factory: wires settings, storage, security and routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from taskyard import __version__
from taskyard.auth.denylist import InProcessDenylist
from taskyard.auth.passwords import PasswordService
from taskyard.auth.router import router as auth_router
from taskyard.auth.tokens import TokenService
from taskyard.config import Settings, get_settings
from taskyard.db import Database
from taskyard.edge.request_id import REQUEST_ID_HEADER, RequestIdMiddleware
from taskyard.errors import install_error_handlers
from taskyard.health.router import router as health_router
from taskyard.tasks.router import router as tasks_router
from taskyard.users.router import router as users_router

API_PREFIX = "/api/v1"
DOCS_PATH = "/api-docs"
OPENAPI_PATH = "/api-docs.json"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(auth_router)
    router.include_router(tasks_router)
    router.include_router(users_router)
    return router


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await app.state.database.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Taskyard API",
        version=__version__,
        description="Task management with JWT auth, user and admin roles. "
        "Wire-compatible with the original Express API.",
        docs_url=DOCS_PATH,
        openapi_url=OPENAPI_PATH,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    app.state.passwords = PasswordService(settings)
    app.state.tokens = TokenService(settings)
    app.state.denylist = InProcessDenylist()

    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER, "Location"],
        max_age=600,
    )
    app.add_middleware(RequestIdMiddleware)

    app.include_router(health_router)
    app.include_router(api_router())

    @app.get("/", include_in_schema=False)
    async def api_info() -> dict[str, Any]:
        return {
            "success": True,
            "message": "Taskyard API",
            "version": __version__,
            "docs": DOCS_PATH,
            "openapi": OPENAPI_PATH,
            "api": API_PREFIX,
        }

    return app
