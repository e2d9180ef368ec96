"""Strong ETags on successful GET responses, and 304 Not Modified for a matching If-None-Match.

It sits outside compression, so the tag names the exact bytes sent: a gzipped and a plain copy
of the same body carry different tags, as strong validators must.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from taskyard.edge.asgi import HttpMiddleware, is_stream

_ETAG = b"etag"
# Kept on a 304, as RFC 9110 asks; the body and its framing headers go.
_DROPPED_ON_304 = {b"content-length", b"content-type", b"content-encoding"}


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


def content_etag(body: bytes) -> str:
    """The default strong tag: a digest of the exact bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _encoded(tag: str, start: Message) -> str:
    """Strong tags name exact bytes: a compressed copy's differs from the plain one's."""
    gzipped = Headers(raw=start.get("headers", [])).get("content-encoding") == "gzip"
    return tag[:-1] + '-gzip"' if gzipped and tag.endswith('"') else tag


class ETagMiddleware(HttpMiddleware):
    """A response that brings its own tag (the response cache stores one beside each body) is
    streamed through, checked against If-None-Match; any other is buffered and tagged with a
    digest of its bytes."""

    def applies_to(self, scope: Scope) -> bool:
        return scope["method"] in {"GET", "HEAD"} and not is_stream(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None  # held while the body is buffered for its digest
        chunks: list[bytes] = []
        forward = True  # False once a 304 went out: the body goes nowhere

        async def tagging_send(message: Message) -> None:
            nonlocal start, forward
            if message["type"] == "http.response.start":
                given = Headers(raw=message.get("headers", [])).get(_ETAG.decode())
                if message["status"] != 200:
                    await send(message)
                elif given is None:
                    start = message
                else:
                    etag = _encoded(given, message)
                    tagged = _with_tag(message, etag)
                    forward = not _fresh(if_none_match, etag)
                    await (send(tagged) if forward else _not_modified(tagged, send))
                return
            if start is None:
                if forward:
                    await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = content_etag(body)
            tagged = _with_tag(start, etag)
            if _fresh(if_none_match, etag):
                await _not_modified(tagged, send)
                return
            await send(tagged)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, tagging_send)


def _fresh(if_none_match: str | None, etag: str) -> bool:
    return if_none_match is not None and _matches(if_none_match, etag)


def _with_tag(start: Message, etag: str) -> Message:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != _ETAG]
    return {**start, "headers": [*headers, (_ETAG, etag.encode())]}


async def send_whole(start: Message, body: bytes, if_none_match: str | None, send: Send) -> None:
    """A whole response whose start carries its strong tag: 304 when the client has it, as this
    layer would answer it (for a layer that answers before this one sees the request)."""
    etag = Headers(raw=start["headers"]).get(_ETAG.decode())
    if etag is not None and _fresh(if_none_match, etag):
        await _not_modified(start, send)
        return
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def _not_modified(start: Message, send: Send) -> None:
    kept = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _DROPPED_ON_304]
    await send({"type": "http.response.start", "status": 304, "headers": kept})
    await send({"type": "http.response.body", "body": b""})
