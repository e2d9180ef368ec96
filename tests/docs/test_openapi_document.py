"""The OpenAPI document describes the API that runs: the real error envelope and statuses, and
schemas that accept exactly what validation accepts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import bearer, register

METHODS = {"get", "put", "post", "patch", "delete"}


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api-docs.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# Only an Idempotency-Key reused with another body is a 422; validation is always a 400.
IDEMPOTENT = {
    ("post", "/api/v1/tasks"),
    ("post", "/api/v1/exports"),
    ("post", "/api/v1/auth/register"),
}


async def test_every_operation_documents_the_envelope_and_never_a_validation_422(
    client: httpx.AsyncClient,
) -> None:
    doc = await document(client)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"success", "message", "requestId"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation["responses"]
            assert ("422" in responses) == ((method, path) in IDEMPOTENT), (method, path)
            if path.startswith("/api/v1"):
                assert {"429", "503"} <= set(responses), (method, path)
                for status in set(responses) - {"200", "201", "202"}:
                    schema = responses[status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
            if operation.get("security"):
                assert "401" in responses, (method, path)
    task_id = doc["paths"]["/api/v1/tasks/{id}"]
    assert {"400", "401", "403", "404", "413"} <= set(task_id["patch"]["responses"])
    assert {"400", "409", "413"} <= set(doc["paths"]["/api/v1/auth/register"]["post"]["responses"])


async def test_fields_documented_as_not_null_refuse_null_and_nullable_ones_take_it(
    client: httpx.AsyncClient,
) -> None:
    doc = await document(client)
    update = doc["components"]["schemas"]["TaskUpdate"]["properties"]
    assert update["title"]["type"] == "string"  # not nullable
    assert {"type": "null"} in update["dueDate"]["anyOf"]
    auth = await register(client)
    task = (
        await client.post("/api/v1/tasks", json={"title": "Nullable?"}, headers=bearer(auth))
    ).json()["data"]
    path = f"/api/v1/tasks/{task['id']}"
    refused = await client.patch(path, json={"title": None}, headers=bearer(auth))
    assert refused.status_code == 400
    cleared = await client.patch(path, json={"dueDate": None}, headers=bearer(auth))
    assert cleared.status_code == 200
    empty = await client.patch(path, json={}, headers=bearer(auth))
    assert empty.status_code == 400
    assert doc["components"]["schemas"]["TaskUpdate"]["minProperties"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "     "}, "title"),  # passes minLength: 3, and the pattern says no
        ({"title": "ab  "}, "title"),
        ({"title": "Fine", "description": "x" * 500 + "   "}, "description"),
        ({"title": "Fine", "dueDate": "2026-02-29"}, "dueDate"),
        ({"title": "Fine", "dueDate": "1700000000"}, "dueDate"),
    ],
)
async def test_values_the_schema_refuses_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    auth = await register(client)
    response = await client.post("/api/v1/tasks", json=body, headers=bearer(auth))
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
async def test_booleans_are_json_booleans(client: httpx.AsyncClient, value: object) -> None:
    auth = await register(client)
    response = await client.patch(
        "/api/v1/auth/me", json={"notifications": value}, headers=bearer(auth)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "notifications"
    accepted = await client.patch(
        "/api/v1/auth/me", json={"notifications": False}, headers=bearer(auth)
    )
    assert accepted.status_code == 200
    assert accepted.json()["data"]["user"]["notifications"] is False


async def test_a_leap_day_is_a_date_even_though_the_pattern_leaves_it_out(
    client: httpx.AsyncClient,
) -> None:
    auth = await register(client)
    created = await client.post(
        "/api/v1/tasks", json={"title": "Leap", "dueDate": "2028-02-29"}, headers=bearer(auth)
    )
    assert created.status_code == 201
    assert created.json()["data"]["dueDate"].startswith("2028-02-29T00:00:00")
