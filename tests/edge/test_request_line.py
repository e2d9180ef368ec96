"""The request line as routes take it: no trailing slash, and query text that is UTF-8."""

from __future__ import annotations

import pytest

from taskyard.edge.request_line import drop_trailing_slash, malformed_query_parameter


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/api/v1/tasks/", "/api/v1/tasks"),
        ("/api/v1/tasks//", "/api/v1/tasks"),
        ("/api/v1/tasks", "/api/v1/tasks"),
        ("/", "/"),
        ("//", "/"),
    ],
)
def test_a_trailing_slash_is_dropped(path: str, kept: str) -> None:
    scope = {"path": path, "raw_path": path.encode()}
    drop_trailing_slash(scope)
    assert scope == {"path": kept, "raw_path": kept.encode()}


@pytest.mark.parametrize(
    ("query", "malformed"),
    [
        (b"", None),
        (b"status=pending&limit=5", None),
        (b"search=caf%C3%A9+%F0%9F%92%A5", None),
        (b"search=%FF", "search"),
        (b"search=%ED%A0%80", "search"),  # a surrogate, escaped as if UTF-8: not UTF-8
        (b"limit=5&x%C0%AF=1", "x\ufffd\ufffd"),
        (b"search=\xff", "search"),  # raw bytes beyond ASCII, unescaped
        (b"search=%", None),  # a lone % is taken literally
    ],
)
def test_query_text_must_be_utf8(query: bytes, malformed: str | None) -> None:
    assert malformed_query_parameter(query) == malformed
