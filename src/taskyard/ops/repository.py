"""Prometheus' HTTP API: instant queries and the firing alerts. The one place that speaks it."""

from __future__ import annotations

import math
from typing import Any

import httpx

from taskyard.errors import AppError

QUERY_TIMEOUT_SECONDS = 3.0


class PrometheusUnavailable(AppError):
    status_code = 502
    message = "Prometheus did not answer; the figures are unavailable"


def prometheus_client(url: str | None) -> httpx.AsyncClient | None:
    """One pooled client per process for TASKYARD_PROMETHEUS_URL, or None when unset."""
    return httpx.AsyncClient(base_url=url, timeout=QUERY_TIMEOUT_SECONDS) if url else None


class PrometheusMetrics:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self.client.get(path, params=params)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise PrometheusUnavailable() from error
        if body.get("status") != "success":
            raise PrometheusUnavailable()
        return body["data"]

    async def vector(self, query: str) -> list[tuple[dict[str, str], float | None]]:
        """Each series of an instant query: its labels, and its value (None for NaN)."""
        data = await self._get("/api/v1/query", {"query": query})
        found: list[tuple[dict[str, str], float | None]] = []
        for series in data.get("result", []):
            value = float(series["value"][1])
            found.append((series["metric"], None if math.isnan(value) else value))
        return found

    async def scalar(self, query: str) -> float | None:
        """The first series' value, or None when the query finds nothing."""
        series = await self.vector(query)
        return series[0][1] if series else None

    async def firing_alerts(self) -> list[dict[str, Any]]:
        data = await self._get("/api/v1/alerts")
        return [alert for alert in data.get("alerts", []) if alert.get("state") == "firing"]
