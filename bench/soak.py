"""A soak: steady traffic for a long while, watching for what only time shows.

The same stack as bench/faults.py (nginx over 3 instances, a worker, private PostgreSQL, Redis
and RabbitMQ), at about 70 % of its peak, for 30 minutes. Every 10 s it samples each instance's
resident memory, the open database and Redis connections, and the p95 of the last 10 s. It
draws them as a PNG and checks the goals: flat memory, no connection growth, p95 drift under
20 % (the last five minutes against the first five, after a warm-up).

    make bench-soak                                            # 30 minutes, 140 operations/s
    python bench/soak.py --duration 20 --interval 2 --json     # the short run make test does
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import matplotlib
import redis.asyncio as redis_asyncio
from faults import Ledger, Traffic, instance_pids, running_stack
from run import REPO
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

MEMORY_GROWTH_LIMIT = 0.10  # "flat": within 10 % of where it settled
P95_DRIFT_LIMIT = 0.20


def resident_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def p95(values: list[float]) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[int(0.95 * (len(ordered) - 1))]


async def sample_forever(
    stack: Any, ledger: Ledger, interval: float, samples: list[dict[str, Any]]
) -> None:
    database = create_async_engine(
        stack.env["TASKYARD_DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://"),
        pool_size=1,
    )
    shared = redis_asyncio.Redis.from_url(stack.env["TASKYARD_REDIS_URL"])
    started = time.monotonic()
    try:
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
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
                }
            )
    finally:
        await database.dispose()
        await shared.aclose()


def judge(samples: list[dict[str, Any]], warmup: float, window: float) -> dict[str, Any]:
    settled = [s for s in samples if s["seconds"] >= warmup] or samples
    first = [s for s in settled if s["seconds"] < settled[0]["seconds"] + window] or settled[:1]
    last = [s for s in settled if s["seconds"] > settled[-1]["seconds"] - window] or settled[-1:]

    def mean(rows: list[dict[str, Any]], pick: Any) -> float:
        return statistics.fmean(pick(row) for row in rows)

    memory_before = mean(first, lambda s: sum(s["resident_mb"]))
    memory_after = mean(last, lambda s: sum(s["resident_mb"]))
    p95_before = statistics.median(s["p95_ms"] for s in first)
    p95_after = statistics.median(s["p95_ms"] for s in last)
    return {
        "memory_mb_first": round(memory_before, 1),
        "memory_mb_last": round(memory_after, 1),
        "memory_growth": round(memory_after / memory_before - 1, 3),
        "database_connections_max": max(s["database_connections"] for s in settled),
        "database_connections_first": max(s["database_connections"] for s in first),
        "database_connections_last": max(s["database_connections"] for s in last),
        "redis_connections_first": max(s["redis_connections"] for s in first),
        "redis_connections_last": max(s["redis_connections"] for s in last),
        "p95_ms_first": p95_before,
        "p95_ms_last": p95_after,
        "p95_drift": round(p95_after / p95_before - 1, 3) if p95_before else 0.0,
    }


def draw(samples: list[dict[str, Any]], rate: float, output: Path) -> None:
    minutes = [s["seconds"] / 60 for s in samples]
    figure, (memory, connections, latency) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
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
    latency.set_xlabel("minutes")
    latency.set_ylim(bottom=0)
    figure.suptitle(f"Soak: {rate:.0f} operations/s through nginx over 3 instances")
    figure.tight_layout()
    figure.savefig(output, dpi=100)
    plt.close(figure)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    async with running_stack(instances=3) as (stack, _sink):
        ledger = Ledger()
        traffic = Traffic(stack.cluster["url"], args.rate, ledger)
        samples: list[dict[str, Any]] = []
        flowing = asyncio.create_task(traffic.run())
        sampler = asyncio.create_task(sample_forever(stack, ledger, args.interval, samples))
        await asyncio.sleep(args.duration)
        sampler.cancel()
        traffic.running = False
        await flowing
        errors = sum(1 for a in ledger.attempts if not 0 < a.status < 500)
    return {
        "rate_per_second": args.rate,
        "duration_seconds": args.duration,
        "requests": len(ledger.attempts),
        "errors": errors,
        "samples": samples,
        "summary": judge(
            samples, warmup=min(120.0, args.duration / 4), window=min(300.0, args.duration / 4)
        ),
    }


def report(results: dict[str, Any], plot: str) -> str:
    summary = results["summary"]
    goals = [
        ("memory flat (within 10 %)", abs(summary["memory_growth"]) <= MEMORY_GROWTH_LIMIT,
         f"{summary['memory_mb_first']} → {summary['memory_mb_last']} MB "
         f"({summary['memory_growth']:+.1%})"),
        ("no connection growth",
         summary["database_connections_last"] <= summary["database_connections_first"]
         and summary["redis_connections_last"] <= summary["redis_connections_first"],
         f"PostgreSQL {summary['database_connections_first']} → "
         f"{summary['database_connections_last']}, Redis {summary['redis_connections_first']} → "
         f"{summary['redis_connections_last']}"),
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
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds of traffic")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=140, help="operations per second")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--results-dir", type=Path, default=REPO / "build" / "bench")
    args = parser.parse_args()
    results = asyncio.run(measure(args))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    draw(results["samples"], args.rate, args.results_dir / "soak.png")
    markdown = report(results, "soak.png")
    (args.results_dir / "soak.md").write_text(markdown)
    (args.results_dir / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2) if args.json else markdown)


if __name__ == "__main__":
    main()
