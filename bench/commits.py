"""What a create's commit costs, and what PostgreSQL's commit settings buy: a measured curve.

    make bench-commits        (or: .venv/bin/python bench/commits.py [--duration 10])

Serves the app (`taskyard serve --workers 2`, Redis for the cache, limits and identity) on a
fresh database and drives creates with wrk at -c32, once for each combination of:

- the pool size of each worker (how many commits can be in flight at once),
- `synchronous_commit` (on: a create is acknowledged once its WAL is on disk; off: up to three
  times `wal_writer_delay` of acknowledged creates can be lost if PostgreSQL crashes),
- `commit_delay` (a commit waits this long for others to share its WAL flush, when at least
  `commit_siblings` other transactions are open).

The settings are set on the database (`ALTER DATABASE … SET`), as a deployment would set them,
so each served process's connections take them. Reports req/s, latency, and the WAL flushes
PostgreSQL made per create (`pg_stat_wal`): fewer than one is group commit at work. Writes
build/bench/commits.md and .json (or --results-dir; `make bench-commits SAVE=1` writes the
committed bench/results).
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from typing import Any

from profile_requests import serve
from run import ADMIN_URL, TASKYARD, bench_arguments, execute, save_results, seeded_database, wrk
from sqlalchemy.engine import make_url

POOL_SIZES = [4, 10, 32]
# (synchronous_commit, commit_delay in µs)
COMMIT_SETTINGS = (("on", 0), ("on", 1000), ("off", 0))


def _wal_flushes(database_url: str) -> int:
    ((flushes,),) = execute(database_url, "SELECT wal_sync FROM pg_stat_wal")
    return int(flushes)


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    secret = secrets.token_urlsafe(48)
    rows: list[dict[str, Any]] = []
    with seeded_database("commits", args, secret) as database:
        database_url, name = database.url, make_url(database.url).database
        creates = database.requests["create"]
        for synchronous_commit, commit_delay in COMMIT_SETTINGS:
            execute(
                ADMIN_URL,
                f'ALTER DATABASE "{name}" SET synchronous_commit = {synchronous_commit}',
                f'ALTER DATABASE "{name}" SET commit_delay = {commit_delay}',
            )
            # As a new connection to the database finds them.
            applied = execute(
                database_url,
                "SELECT current_setting('synchronous_commit'), current_setting('commit_delay')",
            )[0]
            for pool in args.pool_sizes:
                metrics_dir = tempfile.mkdtemp(prefix="taskyard-commits-metrics-")
                process, url = serve(
                    database_url,
                    secret,
                    cache=True,
                    connections=pool,
                    command=[TASKYARD, "serve", "--workers", "2", "--port"],
                    env={"PROMETHEUS_MULTIPROC_DIR": metrics_dir},
                )
                try:
                    flushes_before = _wal_flushes(database_url)
                    measured = wrk(url, creates, args.duration, args.connections)
                    flushes = _wal_flushes(database_url) - flushes_before
                finally:
                    process.terminate()
                    process.wait(timeout=30)
                rows.append(
                    {
                        "synchronous_commit": applied[0],
                        "commit_delay_us": int(applied[1]),
                        "pool_per_worker": pool,
                        "wal_flushes_per_create": flushes / max(measured["requests"], 1),
                        **measured,
                    }
                )
                print(
                    f"synchronous_commit={synchronous_commit} commit_delay={commit_delay} "
                    f"pool={pool}: {measured['rps']:.0f} creates/s, p95 {measured['p95_ms']:.1f} "
                    f"ms, {rows[-1]['wal_flushes_per_create']:.2f} WAL flushes a create",
                    flush=True,
                )
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "# Commits: pool size, synchronous_commit and commit_delay",
        "",
        f"`taskyard serve --workers 2` served directly, PostgreSQL and Redis on this machine "
        f"({args.users} users, {args.tasks} tasks). Creates under wrk -c{args.connections} "
        f"-d{args.duration}s. The pool is per worker. WAL flushes a create below 1 are commits "
        "sharing a flush (group commit).",
        "",
        "| synchronous_commit | commit_delay µs | pool per worker | creates/s | p50 ms | p95 ms "
        "| p99 ms | errors | WAL flushes a create |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['synchronous_commit']} | {row['commit_delay_us']} | "
            f"{row['pool_per_worker']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | "
            f"{row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {100 * row['error_rate']:.2f} % | "
            f"{row['wal_flushes_per_create']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_arguments(__doc__, tasks=20_000, duration=10)
    parser.add_argument(
        "--pool-sizes", type=int, nargs="+", default=POOL_SIZES, help="each worker's pool sizes"
    )
    args = parser.parse_args()
    rows = measure(args)
    save_results(args.results_dir, "commits", report(rows, args), rows)


if __name__ == "__main__":
    main()
