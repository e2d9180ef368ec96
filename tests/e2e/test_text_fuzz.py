"""Text no schema generator sends: unpaired UTF-16 surrogates in JSON, and query strings whose
bytes aren't UTF-8. Hypothesis draws them for every text input, against the real server: each
answer is a 2xx or a 4xx in the envelope, never a 500, and bad text is a 400 naming its field.

(Schemathesis can't: its regex engine can't name a surrogate, so no pattern in the document
can say they are refused, and it never draws one; see tests/e2e/openapi_fuzzing.py.)"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_bad_input import assert_client_error
from tests.serving import Server, bearer

# The slow tier: `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow

EXAMPLES = 30
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
# Any text, unpaired surrogates now and then among the other characters.
ANY_TEXT = st.lists(st.one_of(st.characters(), SURROGATES), min_size=1, max_size=24).map("".join)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# (method, path, the body's other fields, the text fields drawn)
TEXT_INPUTS = [
    ("POST", "/auth/register", {"email": "drawn@example.test", "password": "long enough"}, "name"),
    ("POST", "/auth/register", {"email": "drawn@example.test", "name": "Drawn"}, "password"),
    ("POST", "/auth/login", {"email": "drawn@example.test"}, "password"),
    ("PATCH", "/auth/me", {}, "name"),
    ("POST", "/tasks", {}, "title"),
    ("POST", "/tasks", {"title": "Drawn task"}, "description"),
    ("PATCH", "/tasks/{task}", {}, "title"),
    ("PUT", "/tasks/{task}", {}, "description"),
    ("POST", "/exports", {"format": "csv"}, "search"),
]


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(character) <= 0xDFFF for character in text)


@pytest.mark.parametrize(
    ("method", "path", "others", "field"),
    TEXT_INPUTS,
    ids=[f"{method} {path} {field}" for method, path, _, field in TEXT_INPUTS],
)
def test_drawn_text_in_every_body_field(
    http: httpx.Client,
    user: dict[str, Any],
    method: str,
    path: str,
    others: dict[str, str],
    field: str,
) -> None:
    task = http.post("/tasks", json={"title": "Target"}, headers=bearer(user)).json()["data"]
    url = path.format(task=task["id"])

    @FUZZ_SETTINGS
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        # As any JSON client writes it: non-ASCII as \u escapes, a lone surrogate as its own.
        body = json.dumps({**others, field: text}, ensure_ascii=True).encode()
        response = http.request(
            method,
            url,
            content=body,
            headers={**bearer(user), "Content-Type": "application/json"},
        )
        assert response.status_code < 500, (text, response.text[:300])
        if response.status_code >= 400:
            assert_client_error(response)
        # A high and a low surrogate side by side are a pair: one character once decoded.
        if has_surrogate(json.loads(body)[field]):
            assert response.status_code == 400, (text, response.text[:300])
            assert [error["field"] for error in response.json()["errors"]] == [field]

    check()


@pytest.mark.parametrize("path", ["/tasks", "/tasks/stats", "/tasks/admin/all"])
def test_drawn_bytes_in_query_strings(
    http: httpx.Client, server: Server, user: dict[str, Any], path: str
) -> None:
    headers = bearer(server.admin) if path.endswith("/all") else bearer(user)

    @FUZZ_SETTINGS
    @given(raw=st.binary(min_size=1, max_size=16))
    def check(raw: bytes) -> None:
        response = http.get(f"{path}?search={quote_from_bytes(raw)}", headers=headers)
        assert response.status_code < 500, (raw, response.text[:300])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            assert_client_error(response)
            assert response.status_code == 400
            errors = response.json()["errors"]
            assert errors == [{"field": "search", "message": "Must be valid UTF-8 text"}]

    check()
