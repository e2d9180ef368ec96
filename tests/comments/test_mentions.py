"""An `@email` in a comment mails the member it names, through the outbox, once; not the author,
not someone outside the task, not someone who turned mail off."""

from __future__ import annotations

from typing import Any

from tests.helpers import bearer, running_app
from tests.jobs.test_notifications import drain, welcomed
from tests.support import SmtpServer


async def test_a_mention_mails_the_member_it_names(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    async with running_app(mail_settings) as (app, client):
        owner = await welcomed(app, client, smtp_server, "Mona Owner")
        member = await welcomed(app, client, smtp_server, "Milo Member")
        outsider = await welcomed(app, client, smtp_server, "Otto Outside")
        project = (
            await client.post("/api/v1/projects", json={"name": "Mentions"}, headers=bearer(owner))
        ).json()["data"]
        await client.post(
            f"/api/v1/projects/{project['id']}/members",
            json={"email": member["user"]["email"], "role": "editor"},
            headers=bearer(owner),
        )
        task = (
            await client.post(
                "/api/v1/tasks",
                json={"title": "Review the copy", "projectId": project["id"]},
                headers=bearer(owner),
            )
        ).json()["data"]
        body = (
            f"@{member['user']['email'].upper()} could you look? "
            f"cc @{outsider['user']['email']} and me @{owner['user']['email']}"
        )
        comment = await client.post(
            f"/api/v1/tasks/{task['id']}/comments", json={"body": body}, headers=bearer(owner)
        )
        assert comment.status_code == 201, comment.text
        assert comment.json()["data"]["author"]["id"] == owner["user"]["id"]

        await drain(app, lambda: len(smtp_server.to(member["user"]["email"])) == 2)
        mail = smtp_server.to(member["user"]["email"])[1]
        assert mail["Subject"] == "Mona Owner mentioned you on: Review the copy"
        assert "could you look?" in mail.get_body(("plain",)).get_content()
        await app.state.services.relay.drain_once()
        assert len(smtp_server.to(outsider["user"]["email"])) == 1  # the welcome only
        assert len(smtp_server.to(owner["user"]["email"])) == 1
