"""Live updates under load: how long from a write's 2xx to its event on another instance's
stream, and what an open stream costs an instance in memory.

    make bench-live            (or: .venv/bin/python bench/live.py [--people 300 --rate 100])

1. Seeds a fresh PostgreSQL database: --people people, in shared projects of --per-project
   members each (every person also has their personal project), with a session and a token each.
2. Starts nginx in front of three `taskyard serve` instances with Redis (deploy/local-cluster).
   Every person opens one stream: half straight at instance 2 or 3, half through nginx. For
   --duration seconds, --rate tasks a second are created in the shared projects, round robin,
   each by its project's owner, straight at instance 1. For each event that arrives, the delay
   from its write's 2xx is noted (the event may come first: the relay is woken by the commit,
   before the answer reaches the writer; such a delay counts as 0). Every member of a project
   must hear of every task made in it: a missing event is counted as lost.
3. Opens --memory-streams more streams straight at instance 3 and reads its resident memory
   before and after: the cost of one open stream.
4. Writes build/bench/live.{md,json} (`make bench-live SAVE=1`: bench/results), with the
   issue's goals: p95 under 250 ms, under 50 KB a stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from private_servers import wait_until_async
from run import ADMIN_URL, REPO, Cluster, access_token, execute, save_results
from sqlalchemy.engine import make_url

RESULTS = REPO / "build" / "bench"
GOALS = {"p95_ms": 250.0, "kb_per_stream": 50.0}
OPEN_BATCH = 200  # streams opened at once while filling an instance


@dataclass
class Person:
    user_id: str
    token: str
    project_id: str | None = None
    owns: bool = False


@dataclass
class Arrivals:
    """When each task's event reached each stream, by route (direct or through nginx)."""

    at: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))
    opened: int = 0


def create_database() -> str:
    name = f"taskyard_bench_live_{uuid.uuid4().hex[:8]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def migrate(database_url: str, cluster_env: dict[str, str]) -> None:
    import subprocess

    from run import TASKYARD

    env = {**cluster_env, "TASKYARD_DATABASE_URL": database_url}
    subprocess.run([TASKYARD, "migrate"], env=env, check=True, capture_output=True)


def seed(database_url: str, people: int, per_project: int) -> None:
    execute(
        database_url,
        "SET synchronous_commit = off",
        "INSERT INTO users (id, name, email, password_hash, role, is_active, created_at, "
        "updated_at) SELECT gen_random_uuid(), 'Live ' || g, 'live' || g || '@example.com', "
        "'-', 'user', true, now(), now() FROM generate_series(1, :people) g",
        "INSERT INTO projects (id, name, description, is_inbox, created_at, updated_at) "
        "SELECT id, 'Inbox', '', true, now(), now() FROM users",
        "INSERT INTO project_members (project_id, user_id, role, created_at) "
        "SELECT id, id, 'owner', now() FROM users",
        "CREATE TEMP TABLE numbered AS SELECT row_number() OVER (ORDER BY email) - 1 AS n, id "
        "FROM users",
        # Project k: the people numbered k*per_project ... (k+1)*per_project-1, the first its owner.
        "CREATE TEMP TABLE shared AS SELECT k, gen_random_uuid() AS id "
        "FROM generate_series(0, (:people - 1) / :per_project) k",
        "INSERT INTO projects (id, name, description, is_inbox, created_at, updated_at) "
        "SELECT id, 'Shared ' || k, '', false, now(), now() FROM shared",
        "INSERT INTO project_members (project_id, user_id, role, created_at) "
        "SELECT shared.id, numbered.id, "
        "CASE WHEN numbered.n % :per_project = 0 THEN 'owner' ELSE 'editor' END, now() "
        "FROM numbered JOIN shared ON shared.k = numbered.n / :per_project",
        "INSERT INTO auth_sessions (id, user_id, created_at, last_used_at) "
        "SELECT gen_random_uuid(), id, now(), now() FROM users",
        "ANALYZE",
        people=people,
        per_project=per_project,
    )


def people_of(database_url: str, secret: str) -> list[Person]:
    rows = execute(
        database_url,
        "SELECT u.id::text, s.id::text, m.project_id::text, m.role = 'owner' "
        "FROM users u JOIN auth_sessions s ON s.user_id = u.id "
        "JOIN project_members m ON m.user_id = u.id AND m.project_id <> u.id ORDER BY u.email",
    )
    return [
        Person(user_id, access_token(user_id, session_id, secret), project_id, owns)
        for user_id, session_id, project_id, owns in rows
    ]


async def listen(
    client: httpx.AsyncClient, url: str, person: Person, route: str, arrivals: Arrivals
) -> None:
    headers = {"Authorization": f"Bearer {person.token}"}
    async with client.stream("GET", f"{url}/api/v1/events", headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream refused: {response.status_code}")
        arrivals.opened += 1
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"task.created"' in line:
                arrivals.at[route].append((json.loads(line[5:])["taskId"], time.monotonic()))


async def write(
    client: httpx.AsyncClient,
    url: str,
    owner: Person,
    acked: dict[str, float],
    projects: dict[str, str],
    took: list[float],
) -> None:
    sent = time.monotonic()
    answer = await client.post(
        f"{url}/api/v1/tasks",
        json={"title": "Live", "projectId": owner.project_id},
        headers={"Authorization": f"Bearer {owner.token}"},
    )
    if answer.status_code == 201:
        task_id = answer.json()["data"]["id"]
        acked[task_id] = time.monotonic()
        took.append((acked[task_id] - sent) * 1000)
        projects[task_id] = answer.json()["data"]["projectId"]


async def all_open(arrivals: Arrivals, streams: list[asyncio.Task[None]]) -> None:
    """Until every stream is open; a stream refused or broken ends the run."""

    async def opened() -> bool:
        for stream in streams:
            if stream.done():
                stream.result()
        return arrivals.opened >= len(streams)

    await wait_until_async(opened, within=120, what="every stream to open")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def delays_of(acked: dict[str, float], arrived: list[tuple[str, float]]) -> dict[str, float | int]:
    delays = [max(0.0, at - acked[task]) * 1000 for task, at in arrived if task in acked]
    return {
        "events": len(delays),
        "p50_ms": percentile(delays, 0.50),
        "p95_ms": percentile(delays, 0.95),
        "p99_ms": percentile(delays, 0.99),
        "max_ms": max(delays, default=0.0),
        "mean_ms": statistics.fmean(delays) if delays else 0.0,
    }


async def latency(
    instances: list[str], gateway: str, everyone: list[Person], args: argparse.Namespace
) -> dict[str, Any]:
    arrivals = Arrivals()
    acked: dict[str, float] = {}
    projects: dict[str, str] = {}
    took: list[float] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as streams:
        listening = [
            asyncio.create_task(
                listen(
                    streams,
                    instances[1 + n % 2] if n % 2 == 0 else gateway,
                    person,
                    "another instance, direct" if n % 2 == 0 else "through nginx",
                    arrivals,
                )
            )
            for n, person in enumerate(everyone)
        ]
        await all_open(arrivals, listening)
        owners = [person for person in everyone if person.owns]
        writes = int(args.rate * args.duration)
        writing = httpx.Limits(max_connections=None)
        async with httpx.AsyncClient(limits=writing, timeout=30) as writer:
            pending = []
            started = time.monotonic()
            for n in range(writes):
                # Open loop: each write leaves at its time, whether or not the last was answered.
                await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
                pending.append(
                    asyncio.create_task(
                        write(writer, instances[0], owners[n % len(owners)], acked, projects, took)
                    )
                )
            await asyncio.gather(*pending)
            elapsed = time.monotonic() - started
        members: dict[str, int] = defaultdict(int)
        for person in everyone:
            members[person.project_id or ""] += 1
        # Every member of a task's project has one stream open, and each must hear of it.
        expected = {task: members[project] for task, project in projects.items()}
        heard: dict[str, int] = defaultdict(int)

        async def all_heard() -> bool:
            heard.clear()
            for arrived in arrivals.at.values():
                for task, _at in arrived:
                    heard[task] += 1
            return all(heard[task] >= count for task, count in expected.items())

        with contextlib.suppress(TimeoutError):  # what never came is counted as lost
            await wait_until_async(all_heard, within=10, what="every event to arrive", every=0.1)
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
    lost = sum(max(0, count - heard[task]) for task, count in expected.items())
    return {
        "streams": len(everyone),
        "writes": writes,
        "acknowledged": len(acked),
        "writes_per_second": len(acked) / elapsed,
        "write_p50_ms": percentile(took, 0.50),
        "write_p95_ms": percentile(took, 0.95),
        "expected_events": sum(expected.values()),
        "lost_events": lost,
        "routes": {route: delays_of(acked, arrived) for route, arrived in arrivals.at.items()},
        "all": delays_of(acked, [a for arrived in arrivals.at.values() for a in arrived]),
    }


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def memory(url: str, pid: int, everyone: list[Person], streams: int) -> dict[str, Any]:
    """The instance's resident memory with `streams` more streams open on it."""
    arrivals = Arrivals()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60, read=None)) as client:
        # Warm: the code paths a stream takes are loaded before the baseline is read.
        warm = [
            asyncio.create_task(listen(client, url, person, "warm", arrivals))
            for person in everyone[:20]
        ]
        await all_open(arrivals, warm)
        for task in warm:
            task.cancel()
        await asyncio.gather(*warm, return_exceptions=True)
        await asyncio.sleep(1)
        before = resident_kb(pid)
        arrivals.opened = 0
        open_streams = []
        for start in range(0, streams, OPEN_BATCH):
            batch = range(start, min(streams, start + OPEN_BATCH))
            open_streams += [
                asyncio.create_task(
                    listen(client, url, everyone[n % len(everyone)], "memory", arrivals)
                )
                for n in batch
            ]
            await all_open(arrivals, open_streams)
        await asyncio.sleep(2)  # let the instance settle
        after = resident_kb(pid)
        for task in open_streams:
            task.cancel()
        await asyncio.gather(*open_streams, return_exceptions=True)
    return {
        "streams": streams,
        "rss_before_mb": before / 1024,
        "rss_after_mb": after / 1024,
        "kb_per_stream": (after - before) / streams,
    }


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    lat, mem = results["latency"], results["memory"]
    p95, per_stream = lat["all"]["p95_ms"], mem["kb_per_stream"]
    lines = [
        "# Live updates: write to stream, and memory per stream",
        "",
        f"Three `taskyard serve` instances behind nginx, PostgreSQL and Redis; {lat['streams']} "
        f"open streams (one a person, {args.per_project} people a project); "
        f"{lat['writes_per_second']:.0f} task creations a second for {args.duration} s, each at "
        "instance 1. Delay: from the write's 2xx at the writer to the event's arrival on a "
        "stream.",
        "",
        "| streams on | events | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, figures in sorted(lat["routes"].items()):
        lines.append(
            f"| {route} | {figures['events']} | {figures['p50_ms']:.1f} | "
            f"{figures['p95_ms']:.1f} | {figures['p99_ms']:.1f} | {figures['max_ms']:.1f} |"
        )
    whole = lat["all"]
    lines += [
        f"| all | {whole['events']} | {whole['p50_ms']:.1f} | {whole['p95_ms']:.1f} | "
        f"{whole['p99_ms']:.1f} | {whole['max_ms']:.1f} |",
        "",
        f"Events expected {lat['expected_events']}, lost {lat['lost_events']}. The writes "
        f"themselves took {lat['write_p50_ms']:.1f} ms (p50) and {lat['write_p95_ms']:.1f} ms "
        "(p95) to their 2xx.",
        "",
        f"Memory: {mem['streams']} more streams open on one instance took its resident memory "
        f"from {mem['rss_before_mb']:.1f} MB to {mem['rss_after_mb']:.1f} MB: "
        f"**{per_stream:.1f} KB a stream**.",
        "",
        "| goal | target | measured | |",
        "|---|---:|---:|---|",
        f"| write → another instance's stream, p95 | < {GOALS['p95_ms']:.0f} ms | {p95:.1f} ms | "
        f"{'met' if p95 < GOALS['p95_ms'] else 'MISSED'} |",
        f"| memory per open stream | < {GOALS['kb_per_stream']:.0f} KB | {per_stream:.1f} KB | "
        f"{'met' if per_stream < GOALS['kb_per_stream'] else 'MISSED'} |",
        f"| events lost | 0 | {lat['lost_events']} | "
        f"{'met' if lat['lost_events'] == 0 else 'MISSED'} |",
        "",
        "Command: `make bench-live` (`.venv/bin/python bench/live.py "
        f"--people {args.people} --per-project {args.per_project} --rate {args.rate:g} "
        f"--duration {args.duration} --memory-streams {args.memory_streams}`).",
        "",
    ]
    return "\n".join(lines)


async def measure(cluster: Cluster, everyone: list[Person], args: argparse.Namespace) -> Any:
    state = json.loads((cluster.state_dir / "state.json").read_text())
    services: dict[str, int] = state["services"]["all"]
    instances = list(services)
    return {
        "latency": await latency(instances, cluster.url, everyone, args),
        "memory": await memory(instances[2], services[instances[2]], everyone, args.memory_streams),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=300, help="one open stream each")
    parser.add_argument("--per-project", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="writes a second")
    parser.add_argument("--duration", type=int, default=20, help="seconds of writing")
    parser.add_argument("--memory-streams", type=int, default=5000)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.instances = 3
    secret = secrets.token_urlsafe(48)
    database_url = create_database()
    try:
        cluster = Cluster(database_url, secret, args, cache=True)
        migrate(database_url, cluster.env)
        seed(database_url, args.people, args.per_project)
        everyone = people_of(database_url, secret)
        with cluster:
            results = asyncio.run(measure(cluster, everyone, args))
    finally:
        drop_database(database_url)
    save_results(args.results_dir, "live", report(results, args), results)


if __name__ == "__main__":
    main()
