"""The benchmark as a picture: req/s and p95 per scenario, beside the bare stack and the targets.

    .venv/bin/python bench/chart.py [bench/results/benchmark.json] [bench/results/benchmark.png]

`bench/run.py` draws it after every run; this draws it again from a saved result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # after the backend is chosen

BARE = "bare FastAPI + asyncpg, 20 rows"
BARE_INSERT = "bare FastAPI + asyncpg, INSERT … RETURNING"
BARES = (BARE, BARE_INSERT)


def draw(report: dict[str, Any], output: Path) -> None:
    results: dict[str, dict[str, float]] = report["results"]
    targets: dict[str, float] = report["targets"]
    labels = list(results)
    rps = [results[label]["rps"] for label in labels]
    p95 = [results[label]["p95_ms"] for label in labels]
    colours = ["#7a7a7a" if label in BARES else "#2f6db5" for label in labels]

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(labels) + 2.2))
    positions = range(len(labels))
    left.barh(positions, rps, color=colours)
    left.axvline(targets["rps"], color="#c0392b", linestyle="--", label="plan: 1,000 req/s")
    left.set_xlabel("requests per second (more is better)")
    left.set_yticks(list(positions), labels)
    left.invert_yaxis()
    left.legend(loc="lower right")
    for position, value in zip(positions, rps, strict=True):
        left.text(value, position, f" {value:.0f}", va="center", fontsize=8)

    right.barh(positions, p95, color=colours)
    right.axvline(targets["p95_ms"], color="#c0392b", linestyle="--", label="plan: p95 < 200 ms")
    right.set_xlabel("p95 latency, ms (less is better)")
    right.set_yticks(list(positions), [""] * len(labels))
    right.invert_yaxis()
    right.legend(loc="lower right")
    for position, value in zip(positions, p95, strict=True):
        right.text(value, position, f" {value:.0f}", va="center", fontsize=8)

    figure.suptitle("Taskyard through nginx, beside bare FastAPI + asyncpg endpoints (grey)")
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results/benchmark.json")
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else source.with_suffix(".png")
    draw(json.loads(source.read_text()), output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
