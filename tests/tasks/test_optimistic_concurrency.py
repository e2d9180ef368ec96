"""Optimistic concurrency on tasks: a version every write increments, GET's ETag from it, and
If-Match on PUT, PATCH and DELETE answering 412 with the current task when it changed since.
Without If-Match the last writer still wins, as the original clients expect."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import bearer, register, running_app
from tests.support import make_settings


async def make_task(client: httpx.AsyncClient, auth: dict[str, Any]) -> dict[str, Any]:
    created = await client.post("/api/v1/tasks", json={"title": "Shared"}, headers=bearer(auth))
    assert created.status_code == 201
    task: dict[str, Any] = created.json()["data"]
    return task


async def test_every_write_increments_the_version_and_the_etag_follows(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (_, client):
        auth = await register(client)
        task = await make_task(client, auth)
        assert task["version"] == 1
        path = f"/api/v1/tasks/{task['id']}"
        first = await client.get(path, headers=bearer(auth))
        assert first.json()["data"]["version"] == 1
        assert first.headers["etag"].startswith('"v1-')
        cached = await client.get(
            path, headers={**bearer(auth), "If-None-Match": first.headers["etag"]}
        )
        assert cached.status_code == 304
        for method in ("PATCH", "PUT"):
            await client.request(method, path, json={"status": "in-progress"}, headers=bearer(auth))
        again = await client.get(path, headers=bearer(auth))
        assert again.json()["data"]["version"] == 3
        assert again.headers["etag"].startswith('"v3-')
        listed = await client.get("/api/v1/tasks", headers=bearer(auth))
        assert listed.json()["data"][0]["version"] == 3


async def test_a_stale_if_match_is_a_412_with_the_current_task(database_url: str) -> None:
    async with running_app(make_settings(database_url)) as (_, client):
        auth = await register(client)
        task = await make_task(client, auth)
        path = f"/api/v1/tasks/{task['id']}"
        etag = (await client.get(path, headers=bearer(auth))).headers["etag"]

        # Someone else's write lands first (no If-Match: the last writer wins).
        theirs = await client.patch(path, json={"title": "Theirs"}, headers=bearer(auth))
        assert theirs.status_code == 200

        for method, body in (("PATCH", {"title": "Mine"}), ("PUT", {"title": "Mine"})):
            refused = await client.request(
                method, path, json=body, headers={**bearer(auth), "If-Match": etag}
            )
            assert refused.status_code == 412, refused.text
            envelope = refused.json()
            assert envelope["success"] is False
            assert (
                envelope["message"] == "The task changed since you read it; here is how it is now"
            )
            assert envelope["data"]["title"] == "Theirs"
            assert envelope["data"]["version"] == 2
        gone = await client.delete(path, headers={**bearer(auth), "If-Match": etag})
        assert gone.status_code == 412
        still = await client.get(path, headers=bearer(auth))
        assert still.json()["data"]["title"] == "Theirs"

        fresh = still.headers["etag"]
        mine = await client.patch(
            path, json={"title": "Mine"}, headers={**bearer(auth), "If-Match": fresh}
        )
        assert mine.status_code == 200
        assert mine.json()["data"]["version"] == 3
        # The whole tag is compared: the right version with a digest of another body is no match.
        wrong_digest = await client.delete(path, headers={**bearer(auth), "If-Match": '"v3-00"'})
        assert wrong_digest.status_code == 412
        assert (
            await client.delete(path, headers={**bearer(auth), "If-Match": '"v3"'})
        ).status_code == 200


async def test_if_match_star_and_tags_of_other_kinds(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url, compression_min_bytes=100)) as (_, client):
        auth = await register(client)
        task = await make_task(client, auth)
        path = f"/api/v1/tasks/{task['id']}"
        anything = await client.patch(
            path, json={"status": "completed"}, headers={**bearer(auth), "If-Match": "*"}
        )
        assert anything.status_code == 200
        etag = (await client.get(path, headers=bearer(auth))).headers["etag"]
        assert etag.startswith('"v2-')
        # A tag that names no version of this API, or not this task as it is, never matches; nor
        # does a weak tag, even of the current version (RFC 9110: If-Match compares strongly).
        for header in (
            '"something-else"',
            "garbage",
            "",
            'W/"v2"',
            f"W/{etag}",
            '"v1-abc", "v9-def"',
            '"v2-0123456789abcdef"',
            etag[:-1] + 'x"',
        ):
            refused = await client.patch(
                path, json={"title": "Not this"}, headers={**bearer(auth), "If-Match": header}
            )
            assert refused.status_code == 412, header
        listed = await client.patch(
            path,
            json={"title": "This one"},
            headers={**bearer(auth), "If-Match": f'"v1", {etag}, "v9"'},
        )
        assert listed.status_code == 200
        # The version alone, as the web client sends it from a list's `version`.
        by_version = await client.patch(
            path, json={"title": "And this"}, headers={**bearer(auth), "If-Match": '"v3"'}
        )
        assert by_version.status_code == 200
        gzipped = await client.get(path, headers={**bearer(auth), "Accept-Encoding": "gzip"})
        compressed_tag = gzipped.headers["etag"]
        assert gzipped.headers["content-encoding"] == "gzip"
        assert compressed_tag.endswith('-gzip"')
        # The compressed copy's tag names the same task: it matches as well.
        assert (
            await client.patch(
                path, json={"title": "Zipped"}, headers={**bearer(auth), "If-Match": compressed_tag}
            )
        ).status_code == 200


async def test_a_tag_read_before_a_rename_no_longer_matches(sqlite_url: str) -> None:
    """The digest covers the body as shown, the owner's name too: the same version of the task
    with another name in it is another representation."""
    async with running_app(make_settings(sqlite_url)) as (_, client):
        auth = await register(client)
        task = await make_task(client, auth)
        path = f"/api/v1/tasks/{task['id']}"
        etag = (await client.get(path, headers=bearer(auth))).headers["etag"]
        renamed = await client.patch(
            "/api/v1/auth/me", json={"name": "New Name"}, headers=bearer(auth)
        )
        assert renamed.status_code == 200
        refused = await client.patch(
            path, json={"title": "Mine"}, headers={**bearer(auth), "If-Match": etag}
        )
        assert refused.status_code == 412
        assert refused.json()["data"]["createdBy"]["name"] == "New Name"


async def test_a_412_reveals_nothing_to_someone_who_may_not_see_the_task(sqlite_url: str) -> None:
    async with running_app(make_settings(sqlite_url)) as (_, client):
        owner, stranger = await register(client, "Owner"), await register(client, "Stranger")
        task = await make_task(client, owner)
        refused = await client.patch(
            f"/api/v1/tasks/{task['id']}",
            json={"title": "Peek"},
            headers={**bearer(stranger), "If-Match": '"v0-0"'},
        )
        assert refused.status_code == 404
        assert "data" not in refused.json()
