"""A soak: steady traffic for a long while, watching for what only time shows.

The same stack as bench/faults.py (nginx over 3 instances, a worker, private PostgreSQL, Redis
and RabbitMQ), at about 70 % of the peak `bench/faults.py --peak` measured
(bench/results/peak.json), for 30 minutes. Every 10 s it samples each instance's resident
memory, the open database and Redis connections, the p95 of the last 10 s, the outbox's backlog
and the CPU each part of the stack used. It draws them as a PNG and checks the goals: flat
memory, no connection growth, p95 drift under 20 % (the last five minutes against the first
five, after a warm-up). With pg_stat_statements, it also shows where the database's time went.

    make bench-soak                                            # 30 minutes
    python bench/soak.py --duration 20 --interval 2 --json     # the short run make test does
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib
import redis.asyncio as redis_asyncio
from faults import (
    STATEMENT_STATISTICS,
    UNDELIVERED,
    Ledger,
    Traffic,
    database_engine,
    instance_pids,
    running_stack,
    share_of_peak,
)
from run import REPO
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

MEMORY_GROWTH_LIMIT = 0.10  # "flat": within 10 % of where it settled
CONNECTION_GROWTH_LIMIT = 0.10
P95_DRIFT_LIMIT = 0.20


def resident_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds() -> dict[int, tuple[int, float]]:
    """Every process: (its parent, the CPU seconds it used)."""
    found: dict[int, tuple[int, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            record = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        fields = record[record.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
        )
    return found


def tree_cpu_seconds(
    roots: list[int], processes: dict[int, tuple[int, float]], others: set[int]
) -> float:
    """CPU seconds of the roots and their descendants (PostgreSQL's backends, say), short of
    the `others`: the servers this process started are counted as themselves."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, waiting = 0.0, list(roots)
    while waiting:
        pid = waiting.pop()
        total += processes.get(pid, (0, 0.0))[1]
        waiting.extend(child for child in children.get(pid, []) if child not in others)
    return total


def cpu_by_component(parts: dict[str, list[int]]) -> dict[str, float]:
    processes = process_cpu_seconds()
    roots = {pid for pids in parts.values() for pid in pids}
    return {name: tree_cpu_seconds(pids, processes, roots) for name, pids in parts.items()}


def components(stack: Any) -> dict[str, list[int]]:
    """The processes of each part of the stack, to see which one the CPU goes to."""

    def pid_of(process: Any) -> list[int]:
        return [process.process.pid] if process.process is not None else []

    return {
        "API instances": instance_pids(stack),
        "worker": [pid for worker in stack.workers.values() for pid in pid_of(worker)],
        "PostgreSQL": [stack.postgres.postmaster_pid],
        "Redis": pid_of(stack.redis),
        "RabbitMQ": pid_of(stack.rabbitmq),
        "nginx": [int(stack.cluster["nginx_pid"])],
        "load generator": [os.getpid()],
    }


TOP_STATEMENTS = """
SELECT queryid, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query, calls,
       total_exec_time
FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 40
"""


async def statement_totals(engine: Any) -> dict[str, dict[str, Any]]:
    async with engine.connect() as connection:
        rows = (await connection.execute(text(TOP_STATEMENTS))).all()
    return {
        str(row.queryid): {"query": row.query, "calls": row.calls, "ms": row.total_exec_time}
        for row in rows
    }


def statement_profile(
    early: dict[str, dict[str, Any]], late: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The statements the database spent most time on after the first window, each with its
    mean time then and in the first window: a statement that grows slower shows here."""
    rows = []
    for key, total in late.items():
        before = early.get(key, {"calls": 0, "ms": 0.0})
        calls = total["calls"] - before["calls"]
        if calls <= 0:
            continue
        rows.append(
            {
                "query": total["query"],
                "calls_after": calls,
                "mean_ms_first": round(before["ms"] / before["calls"], 3)
                if before["calls"]
                else None,
                "mean_ms_after": round((total["ms"] - before["ms"]) / calls, 3),
                "total_s_after": round((total["ms"] - before["ms"]) / 1000, 1),
            }
        )
    return sorted(rows, key=lambda row: -row["total_s_after"])[:10]


def p95(values: list[float]) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[int(0.95 * (len(ordered) - 1))]


async def sample_forever(
    stack: Any,
    database: AsyncEngine,
    ledger: Ledger,
    interval: float,
    samples: list[dict[str, Any]],
) -> None:
    shared = redis_asyncio.Redis.from_url(stack.env["TASKYARD_REDIS_URL"])
    started = time.monotonic()
    parts = components(stack)
    cpu_before = cpu_by_component(parts)
    try:
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            cpu_now = cpu_by_component(parts)
            # Percent of one core over the interval (a worker restarted since is not counted).
            cpu_percent = {
                name: round(max(0.0, cpu_now[name] - cpu_before[name]) / interval * 100, 1)
                for name in parts
            }
            cpu_before = cpu_now
            recent = [a.seconds for a in ledger.attempts if a.at >= now - interval]
            async with database.connect() as connection:
                database_connections = (
                    await connection.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE backend_type = 'client backend'"
                        )
                    )
                ).scalar()
                outbox_backlog = (await connection.execute(text(UNDELIVERED))).scalar()
            clients = (await shared.info("clients"))["connected_clients"]
            samples.append(
                {
                    "seconds": round(now - started, 1),
                    "resident_mb": [
                        round(resident_megabytes(pid), 1) for pid in instance_pids(stack)
                    ],
                    # Less the sampler's own connection to each.
                    "database_connections": int(database_connections or 0) - 1,
                    "redis_connections": int(clients) - 1,
                    "requests": len(recent),
                    "p95_ms": round(p95(recent) * 1000, 1),
                    "outbox_backlog": int(outbox_backlog or 0),
                    "cpu_percent": cpu_percent,
                }
            )
    finally:
        await shared.aclose()


def judge(samples: list[dict[str, Any]], warmup: float, window: float) -> dict[str, Any]:
    settled = [s for s in samples if s["seconds"] >= warmup] or samples
    first = [s for s in settled if s["seconds"] < settled[0]["seconds"] + window] or settled[:1]
    last = [s for s in settled if s["seconds"] > settled[-1]["seconds"] - window] or settled[-1:]

    def mean(rows: list[dict[str, Any]], pick: Any) -> float:
        return statistics.fmean(pick(row) for row in rows)

    memory_before = mean(first, lambda s: sum(s["resident_mb"]))
    memory_after = mean(last, lambda s: sum(s["resident_mb"]))
    p95_before = round(statistics.median(s["p95_ms"] for s in first), 1)
    p95_after = round(statistics.median(s["p95_ms"] for s in last), 1)
    return {
        "memory_mb_first": round(memory_before, 1),
        "memory_mb_last": round(memory_after, 1),
        "memory_growth": round(memory_after / memory_before - 1, 3),
        # Medians: a pool that opens a connection for a moment's burst isn't growing.
        "database_connections_max": max(s["database_connections"] for s in settled),
        "database_connections_first": statistics.median(s["database_connections"] for s in first),
        "database_connections_last": statistics.median(s["database_connections"] for s in last),
        "redis_connections_max": max(s["redis_connections"] for s in settled),
        "redis_connections_first": statistics.median(s["redis_connections"] for s in first),
        "redis_connections_last": statistics.median(s["redis_connections"] for s in last),
        "p95_ms_first": p95_before,
        "p95_ms_last": p95_after,
        "p95_drift": round(p95_after / p95_before - 1, 3) if p95_before else 0.0,
    }


def draw(samples: list[dict[str, Any]], rate: float, output: Path) -> None:
    minutes = [s["seconds"] / 60 for s in samples]
    figure, (memory, connections, latency, cpu) = plt.subplots(4, 1, figsize=(9, 10.5), sharex=True)
    for index in range(len(samples[0]["resident_mb"])):
        memory.plot(
            minutes, [s["resident_mb"][index] for s in samples], label=f"instance {index + 1}"
        )
    memory.set_ylabel("resident MB")
    memory.set_ylim(bottom=0)
    memory.legend(loc="lower right")
    connections.plot(minutes, [s["database_connections"] for s in samples], label="PostgreSQL")
    connections.plot(minutes, [s["redis_connections"] for s in samples], label="Redis")
    connections.set_ylabel("open connections")
    connections.set_ylim(bottom=0)
    connections.legend(loc="lower right")
    latency.plot(minutes, [s["p95_ms"] for s in samples], color="tab:red")
    latency.axhline(200, color="grey", linestyle="--", linewidth=1)
    latency.text(0, 200, " target 200 ms", va="bottom", color="grey")
    latency.set_ylabel("p95 ms (each 10 s)")
    latency.set_ylim(bottom=0)
    names = list(samples[0]["cpu_percent"])
    cpu.stackplot(
        minutes, *[[s["cpu_percent"][name] for s in samples] for name in names], labels=names
    )
    cores = os.cpu_count() or 1
    cpu.axhline(100 * cores, color="grey", linestyle="--", linewidth=1)
    cpu.text(0, 100 * cores, f" {cores} cores", va="bottom", color="grey")
    cpu.set_ylabel("CPU % of a core")
    cpu.set_ylim(0, 100 * cores * 1.4)
    cpu.legend(loc="upper left", fontsize="small", ncol=4)
    cpu.set_xlabel("minutes")
    figure.suptitle(f"Soak: {rate:.0f} operations/s through nginx over 3 instances")
    figure.tight_layout()
    figure.savefig(output, dpi=100)
    plt.close(figure)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    warmup, window = min(120.0, args.duration / 4), min(300.0, args.duration / 4)
    async with running_stack(instances=3) as (stack, _sink):
        database = database_engine(stack.env["TASKYARD_DATABASE_URL"], pool_size=1)
        if STATEMENT_STATISTICS:
            async with database.begin() as connection:
                await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        ledger = Ledger()
        traffic = Traffic(stack.cluster["url"], args.rate, ledger)
        samples: list[dict[str, Any]] = []
        flowing = asyncio.create_task(traffic.run())
        sampler = asyncio.create_task(
            sample_forever(stack, database, ledger, args.interval, samples)
        )
        await asyncio.sleep(warmup + window)
        early = await statement_totals(database) if STATEMENT_STATISTICS else {}
        await asyncio.sleep(max(0.0, args.duration - warmup - window))
        late = await statement_totals(database) if STATEMENT_STATISTICS else {}
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await database.dispose()
        traffic.running = False
        await flowing
        errors = sum(1 for a in ledger.attempts if not 0 < a.status < 500)
    return {
        "rate_per_second": args.rate,
        "duration_seconds": args.duration,
        "requests": len(ledger.attempts),
        "errors": errors,
        "samples": samples,
        "summary": judge(samples, warmup=warmup, window=window),
        "database_profile": statement_profile(early, late),
    }


def report(results: dict[str, Any], plot: str) -> str:
    summary = results["summary"]
    goals = [
        ("memory flat (within 10 %)", abs(summary["memory_growth"]) <= MEMORY_GROWTH_LIMIT,
         f"{summary['memory_mb_first']} → {summary['memory_mb_last']} MB "
         f"({summary['memory_growth']:+.1%})"),
        ("no connection growth (median, within 10 %)",
         all(
             summary[f"{kind}_connections_last"]
             <= max(summary[f"{kind}_connections_first"] * (1 + CONNECTION_GROWTH_LIMIT),
                    summary[f"{kind}_connections_first"] + 1)
             for kind in ("database", "redis")
         ),
         f"PostgreSQL {summary['database_connections_first']} → "
         f"{summary['database_connections_last']} (at most "
         f"{summary['database_connections_max']}), Redis {summary['redis_connections_first']} → "
         f"{summary['redis_connections_last']} (at most {summary['redis_connections_max']})"),
        ("p95 drift under 20 %", summary["p95_drift"] < P95_DRIFT_LIMIT,
         f"{summary['p95_ms_first']} → {summary['p95_ms_last']} ms ({summary['p95_drift']:+.1%})"),
    ]  # fmt: skip
    lines = [
        f"# Soak: {results['rate_per_second']:.0f} operations/s for "
        f"{results['duration_seconds'] / 60:.0f} minutes",
        "",
        f"{results['requests']} requests, {results['errors']} errors.",
        "",
        "| Goal | Met | Measured |",
        "| --- | --- | --- |",
        *(f"| {goal} | {'yes' if met else 'no'} | {measured} |" for goal, met, measured in goals),
        "",
        f"![Soak]({plot})",
    ]
    if results["database_profile"]:
        lines += [
            "",
            "Where PostgreSQL's time went after the first window (pg_stat_statements):",
            "",
            "| Statement | Calls | Mean ms, first window | Mean ms, after | Total s, after |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| `{row['query'].replace('|', '/')}` | {row['calls_after']} | "
                f"{row['mean_ms_first']} | {row['mean_ms_after']} | {row['total_s_after']} |"
                for row in results["database_profile"]
            ),
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of traffic")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument(
        "--rate", type=float, default=None, help="operations per second (default: 70 %% of peak)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--results-dir", type=Path, default=REPO / "build" / "bench")
    args = parser.parse_args()
    args.rate = args.rate or share_of_peak(0.7)
    results = asyncio.run(measure(args))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    draw(results["samples"], args.rate, args.results_dir / "soak.png")
    markdown = report(results, "soak.png")
    (args.results_dir / "soak.md").write_text(markdown)
    (args.results_dir / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2) if args.json else markdown)


if __name__ == "__main__":
    main()
