"""The web client: the built React app, its hashed assets, and its client-side routes."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from taskyard.errors import NotFound

# Vite puts content-hashed files here: a new build means new names, so they never go stale.
ASSETS_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html names the current assets, so it is revalidated on every load.
REVALIDATE = "no-cache"
UNHASHED_FILE = "public, max-age=3600"
# Our own scripts and styles only: no inline script, no third-party origin.
CLIENT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Paths the server answers itself; the client never shadows them, not even with a 404 page.
SERVER_PREFIXES = ("/api", "/health", "/metrics")


def is_client_path(path: str) -> bool:
    return not path.startswith(SERVER_PREFIXES)


def find_client(web_dir: Path | None) -> Path | None:
    """The build directory, when a build is there to serve."""
    if web_dir is None or not (web_dir / "index.html").is_file():
        return None
    return web_dir.resolve()


def _file_within(root: Path, relative: str) -> Path | None:
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


class ClientRoute(Route):
    """GET and HEAD on any path the server doesn't own.

    Anything else is no match at all, so unknown API paths keep their 404 and wrong methods their
    405 instead of falling through to the app.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not is_client_path(scope["path"])
        ):
            return Match.NONE, {}
        return super().matches(scope)


def client_route(build: Path) -> ClientRoute:
    index = build / "index.html"
    assets = build / ASSETS_DIR

    async def serve(request: Request) -> Response:
        path: str = request.path_params["path"]
        if "\x00" in path:
            raise NotFound()  # no file name holds a NUL; the file system would refuse it
        if path.startswith(f"{ASSETS_DIR}/"):
            asset = _file_within(assets, path.removeprefix(f"{ASSETS_DIR}/"))
            if asset is None:
                raise NotFound("Asset not found")
            return FileResponse(asset, headers={"Cache-Control": IMMUTABLE})
        if "." in path.rsplit("/", 1)[-1]:
            # A file name, not a client route: favicon, robots.txt and the like.
            found = _file_within(build, path)
            if found is None or found == index:
                raise NotFound()
            return FileResponse(found, headers={"Cache-Control": UNHASHED_FILE})
        # A client-side route: the app decides what it shows.
        return FileResponse(index, headers={"Cache-Control": REVALIDATE})

    return ClientRoute("/{path:path}", serve, methods=["GET", "HEAD"], include_in_schema=False)
