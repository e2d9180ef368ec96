"""Strong ETags on successful GET responses, and 304 Not Modified for a matching If-None-Match.

It sits outside compression, so the tag names the exact bytes sent: a gzipped and a plain copy
of the same body carry different tags, as strong validators must.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware

_ETAG = b"etag"
# Kept on a 304, as RFC 9110 asks; the body and its framing headers go.
_DROPPED_ON_304 = {b"content-length", b"content-type", b"content-encoding"}


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


# A route's own kind of tag (a task's version) for a body, given as sent before compression;
# None leaves the body to the default content hash.
Tagger = Callable[[Scope, bytes], str | None]


class ETagMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, taggers: Sequence[Tagger] = ()) -> None:
        super().__init__(app)
        self.taggers = taggers

    def applies_to(self, scope: Scope) -> bool:
        return scope["method"] in {"GET", "HEAD"}

    def _tag(self, scope: Scope, start: Message, body: bytes) -> str:
        for tagger in self.taggers:
            gzipped = Headers(raw=start.get("headers", [])).get("content-encoding") == "gzip"
            tag = tagger(scope, gzip.decompress(body) if gzipped else body)
            if tag is not None:
                # Strong tags name exact bytes: the compressed copy's differs from the plain one.
                return tag[:-1] + '-gzip"' if gzipped else tag
        return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def buffering_send(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if message["status"] != 200 or _ETAG.decode() in headers:
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await self._finish(
                scope, start, self._tag(scope, start, body := b"".join(chunks)), body, send
            )

        await self.app(scope, receive, buffering_send)

    @staticmethod
    async def _finish(scope: Scope, start: Message, etag: str, body: bytes, send: Send) -> None:
        headers = [*start.get("headers", []), (_ETAG, etag.encode())]
        if_none_match = Headers(scope=scope).get("if-none-match")
        if if_none_match is not None and _matches(if_none_match, etag):
            kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
