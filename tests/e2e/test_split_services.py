"""Split mode for real: `taskyard serve --service auth` and `--service tasks`, each on its own
database, a `taskyard worker --service tasks`, RabbitMQ and Redis between them."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.serving import TASKYARD, Server, bearer, register, running_server
from tests.support import delete_broker_namespace, fresh_database, unique_prefix

# The slow tier (whole processes, as deployed): `make test` runs it, `make check` leaves it out.
pytestmark = pytest.mark.slow


@dataclass
class Split:
    auth: Server
    tasks: Server
    worker: subprocess.Popen[bytes]  # the task service's: it applies user.* events to the copy

    def api(self, server: Server, method: str, path: str, auth: dict[str, Any], **kw: Any) -> Any:
        return httpx.request(method, f"{server.api}{path}", headers=bearer(auth), timeout=10, **kw)


def seconds_until(condition: Callable[[], bool], within: float = 20.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "condition not met in time"
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def split(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker_url: str,
    redis_url: str,
) -> Iterator[Split]:
    workdir = tmp_path_factory.mktemp(f"split-{request.param}")
    (workdir / "auth").mkdir()
    (workdir / "tasks").mkdir()
    auth_db = fresh_database(request.param, workdir / "auth", request)
    tasks_db = fresh_database(request.param, workdir / "tasks", request)
    broker_prefix = unique_prefix()
    shared = {
        "TASKYARD_BROKER_URL": broker_url,
        "TASKYARD_BROKER_PREFIX": broker_prefix,
        "TASKYARD_REDIS_URL": redis_url,
        "TASKYARD_REDIS_KEY_PREFIX": unique_prefix(),
        "TASKYARD_OUTBOX_POLL_SECONDS": "0.2",
    }
    worker: subprocess.Popen[bytes] | None = None
    try:
        with running_server(
            next(auth_db),
            workdir / "auth",
            request.param,
            {**shared, "TASKYARD_SERVICE": "auth"},
        ) as auth:
            tasks_env = {
                **shared,
                "TASKYARD_SERVICE": "tasks",
                "TASKYARD_AUTH_JWKS_URL": f"{auth.base_url}/.well-known/jwks.json",
            }
            with running_server(
                next(tasks_db), workdir / "tasks", request.param, tasks_env, with_admin=False
            ) as tasks:
                log = (workdir / "worker.log").open("wb")
                worker = subprocess.Popen(
                    [TASKYARD, "worker", "--service", "tasks"],
                    env={**tasks.env, "TASKYARD_LOG_LEVEL": "info"},
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                tasks.admin = auth.admin
                yield Split(auth, tasks, worker)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        next(auth_db, None)
        next(tasks_db, None)
        delete_broker_namespace(broker_url, broker_prefix)


def test_someone_who_just_signed_up_creates_a_task_at_once(split: Split) -> None:
    person = register(split.auth, "Quick Starter")
    created = split.api(split.tasks, "POST", "/tasks", person, json={"title": "Right away"})
    assert created.status_code == 201, created.text
    assert created.json()["data"]["createdBy"]["name"] == "Quick Starter"
    assert created.json()["data"]["createdBy"]["email"] == person["user"]["email"]
    listed = split.api(split.tasks, "GET", "/tasks", person)
    assert [task["title"] for task in listed.json()["data"]] == ["Right away"]
    # Each service answers only its own routes.
    assert split.api(split.auth, "GET", "/tasks", person).status_code == 404
    assert split.api(split.tasks, "GET", "/auth/me", person).status_code == 404


def test_a_rename_through_auth_shows_in_the_task_service(split: Split) -> None:
    person = register(split.auth, "Old Name")
    task = split.api(split.tasks, "POST", "/tasks", person, json={"title": "Named"}).json()
    path = f"/tasks/{task['data']['id']}"
    assert split.api(split.tasks, "GET", path, person).json()["data"]["createdBy"]["name"] == (
        "Old Name"
    )
    renamed = split.api(split.auth, "PATCH", "/auth/me", person, json={"name": "New Name"})
    assert renamed.status_code == 200
    delay = seconds_until(
        lambda: (
            split.api(split.tasks, "GET", path, person).json()["data"]["createdBy"]["name"]
            == "New Name"
        )
    )
    print(f"rename through auth shown by the task service after {delay * 1000:.0f} ms")


def test_assignment_by_email_resolves_against_the_read_model(split: Split) -> None:
    owner, helper = register(split.auth, "Owner"), register(split.auth, "Helper")
    body = {"title": "For the helper", "assigneeEmail": helper["user"]["email"]}
    seconds_until(
        lambda: split.api(split.tasks, "POST", "/tasks", owner, json=body).status_code == 201
    )
    assigned = split.api(split.tasks, "GET", "/tasks?scope=assigned", helper).json()["data"]
    assert [task["title"] for task in assigned][:1] == ["For the helper"]
    assert assigned[0]["assignee"]["name"] == "Helper"


def test_a_deleted_persons_memberships_go_with_their_event(split: Split) -> None:
    """Deleted through the auth service, a project's owner leaves the task service's projects
    when their `user.deleted` arrives: their membership goes, and the project to its member."""
    owner, member = register(split.auth, "Leaving Owner"), register(split.auth, "Staying")
    project = split.api(split.tasks, "POST", "/projects", owner, json={"name": "Handed on"})
    assert project.status_code == 201
    members = f"/projects/{project.json()['data']['id']}/members"
    body = {"email": member["user"]["email"], "role": "editor"}
    seconds_until(
        lambda: split.api(split.tasks, "POST", members, owner, json=body).status_code == 201
    )
    deleted = split.api(split.auth, "DELETE", f"/users/{owner['user']['id']}", split.auth.admin)
    assert deleted.status_code == 200

    def handed_over() -> bool:
        listed = split.api(split.tasks, "GET", members, member).json()["data"]
        return [(m["id"], m["role"]) for m in listed] == [(member["user"]["id"], "owner")]

    delay = seconds_until(handed_over)
    print(f"a deleted owner's project handed over in the task service after {delay * 1000:.0f} ms")


@pytest.mark.parametrize("split", ["postgresql"], indirect=True)
def test_assigning_someone_the_copy_has_not_heard_of_yet_waits_for_them(split: Split) -> None:
    """The `user.changed` event of someone who just signed up is held back (the task service's
    worker stopped), then let through while the assignment waits: a 201, not a 400. (Not on
    SQLite, where the request holds the write lock that applying the event needs.)"""
    owner = register(split.auth, "Owner")
    split.worker.send_signal(signal.SIGSTOP)
    try:
        helper = register(split.auth, "Brand New Helper")
        release = threading.Timer(0.5, split.worker.send_signal, (signal.SIGCONT,))
        release.start()
        body = {"title": "Welcome aboard", "assigneeEmail": helper["user"]["email"]}
        created = split.api(split.tasks, "POST", "/tasks", owner, json=body)
        release.join()
    finally:
        split.worker.send_signal(signal.SIGCONT)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["assignee"]["name"] == "Brand New Helper"


@pytest.mark.parametrize("how", ["logout", "deactivation"])
def test_revocation_bites_in_the_task_service_within_a_second(split: Split, how: str) -> None:
    person = register(split.auth, "Leaving Soon")
    assert split.api(split.tasks, "GET", "/tasks", person).status_code == 200
    if how == "logout":
        ended = split.api(split.auth, "POST", "/auth/logout", person)
    else:
        ended = split.api(
            split.auth,
            "PATCH",
            f"/users/{person['user']['id']}",
            split.auth.admin,
            json={"isActive": False},
        )
    assert ended.status_code == 200
    delay = seconds_until(
        lambda: split.api(split.tasks, "GET", "/tasks", person).status_code == 401, within=1.0
    )
    print(f"{how} refused by the task service after {delay * 1000:.0f} ms")


def forget_everything_redis_knew(split: Split) -> None:
    """As a Redis that lost its data (a restart without persistence) leaves it."""
    client = redis.Redis.from_url(split.tasks.env["TASKYARD_REDIS_URL"])
    prefix = split.tasks.env["TASKYARD_REDIS_KEY_PREFIX"]
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@pytest.mark.parametrize("how", ["logout", "deactivation and back"])
def test_an_ended_session_stays_refused_when_redis_forgets(split: Split, how: str) -> None:
    """The task service knows no sessions of its own: it keeps those the auth service ended,
    so Redis is not the only place a revocation lives."""
    person = register(split.auth, f"Forgotten {how}")
    assert split.api(split.tasks, "GET", "/tasks", person).status_code == 200
    if how == "logout":
        assert split.api(split.auth, "POST", "/auth/logout", person).status_code == 200
    else:
        for active in (False, True):
            changed = split.api(
                split.auth,
                "PATCH",
                f"/users/{person['user']['id']}",
                split.auth.admin,
                json={"isActive": active},
            )
            assert changed.status_code == 200

    def refused_without_redis() -> bool:
        forget_everything_redis_knew(split)
        answer: httpx.Response = split.api(split.tasks, "GET", "/tasks", person)
        return answer.status_code == 401

    delay = seconds_until(refused_without_redis, within=10.0)
    print(f"{how}: kept by the task service after {delay * 1000:.0f} ms")
    for _ in range(3):
        forget_everything_redis_knew(split)
        assert split.api(split.tasks, "GET", "/tasks", person).status_code == 401
    # Someone whose session is open is still let in on what the task service knows alone.
    other = register(split.auth, f"Still here {how}")
    forget_everything_redis_knew(split)
    assert split.api(split.tasks, "GET", "/tasks", other).status_code == 200


def test_the_task_service_loads_no_password_or_session_code(split: Split) -> None:
    probe = (
        "import sys, taskyard.cli\n"
        "from taskyard.app import create_app\n"
        "create_app()\n"
        "names = ('taskyard.auth.', 'argon2')\n"
        # The CLI's declarations of the account commands: nothing of passwords or sessions.
        "declared = {'taskyard.auth.commands'}\n"
        "loaded = (m for m in sys.modules if m.startswith(names) and m not in declared)\n"
        "print(' '.join(sorted(loaded)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**split.tasks.env, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
    # The probe can see them: the monolith loads both.
    monolith = subprocess.run(
        [sys.executable, "-c", probe],
        env={**split.tasks.env, "TASKYARD_SERVICE": "all"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "taskyard.auth.passwords" in monolith.stdout.split()
