"""Gzip for a whole body answered before the compression layer sees it, as that layer
(Starlette's `GZipMiddleware`) would compress it: from `minimum_size` bytes, with
`Vary: Accept-Encoding` whether or not this client asked for gzip."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from taskyard.edge.asgi import is_stream

Header = tuple[bytes, bytes]
_VARY = (b"vary", b"Accept-Encoding")


@dataclass(frozen=True, slots=True)
class Compression:
    minimum_size: int
    level: int

    def encode(self, scope: Scope, body: bytes, etag: str) -> tuple[bytes, list[Header], str]:
        """The body as sent, the headers that say how, and its strong tag (a gzipped copy's
        differs from the plain one's, as `ETagMiddleware` tags it)."""
        if len(body) < self.minimum_size:
            return body, [], etag
        if "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            return body, [_VARY], etag
        gzipped = gzip.compress(body, compresslevel=self.level)
        return gzipped, [_VARY, (b"content-encoding", b"gzip")], etag[:-1] + '-gzip"'


class GZip(GZipMiddleware):
    """Starlette's gzip, which an endless stream passes by: it would never compress one, yet it
    would hold a responder for each stream for as long as it is open."""

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        if is_stream(scope):
            return self.app(scope, receive, send)  # handed on: no frame of this layer stays
        return super().__call__(scope, receive, send)
