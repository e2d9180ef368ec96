"""The request line as the routes may take it: one path per resource, and text that decodes.

- A trailing slash names the same resource (as Express, the original server, treats it): the
  path loses it here rather than being redirected, so no `Location` is ever built from the
  Host header a client chose.
- A query string whose percent-escapes don't decode as UTF-8 is refused (400, naming the
  parameter): Starlette would otherwise turn the bytes into U+FFFD and search for that.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import Scope

MALFORMED_TEXT = "Must be valid UTF-8 text"


def drop_trailing_slash(scope: Scope) -> None:
    path: str = scope["path"]
    if len(path) > 1 and path.endswith("/"):
        scope["path"] = path.rstrip("/") or "/"
        raw: bytes | None = scope.get("raw_path")
        if raw is not None:
            scope["raw_path"] = raw.rstrip(b"/") or b"/"


def _decodes(part: bytes) -> bool:
    try:
        unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def malformed_query_parameter(query_string: bytes) -> str | None:
    """The first parameter whose name or value is not UTF-8 once unescaped, or None."""
    if b"%" not in query_string and query_string.isascii():
        return None  # nothing escaped, nothing beyond ASCII: the common case costs two scans
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if not (_decodes(name) and _decodes(value)):
            return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
    return None
