import { describe, expect, it } from "vitest";

import { histogramQuantile, parsePrometheus, ratesBetween, snapshotOf } from "./prometheus";

function scrape(requests: number, errors: number, buckets: [string, number][], probes = 0): string {
  return [
    "# HELP taskyard_http_requests_total HTTP requests answered",
    "# TYPE taskyard_http_requests_total counter",
    `taskyard_http_requests_total{method="GET",route="/api/v1/tasks",status="200"} ${requests - errors}`,
    `taskyard_http_requests_total{method="POST",route="/api/v1/tasks",status="500"} ${errors}`,
    `taskyard_http_requests_total{method="GET",route="/metrics",status="200"} ${probes}`,
    ...buckets.map(
      ([le, count]) =>
        `taskyard_http_request_duration_seconds_bucket{le="${le}",method="GET",route="/api/v1/tasks",status="200"} ${count}`,
    ),
    `taskyard_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/metrics",status="200"} ${probes}`,
  ].join("\n");
}

describe("Prometheus text", () => {
  it("parses names, labels and values, escapes included", () => {
    const [sample] = parsePrometheus('x_total{path="a\\"b",code="200"} 3.5\n# comment');
    expect(sample).toEqual({ name: "x_total", labels: { path: 'a"b', code: "200" }, value: 3.5 });
  });

  it("turns two scrapes into rates, leaving out the panel's own polling", () => {
    const before = snapshotOf(
      parsePrometheus(
        scrape(
          100,
          0,
          [
            ["0.05", 90],
            ["0.1", 100],
            ["+Inf", 100],
          ],
          10,
        ),
      ),
      0,
    );
    const after = snapshotOf(
      parsePrometheus(
        scrape(
          300,
          2,
          [
            ["0.05", 180],
            ["0.1", 290],
            ["+Inf", 300],
          ],
          500,
        ),
      ),
      2000,
    );
    const rates = ratesBetween(before, after);
    expect(rates.requestsPerSecond).toBe(100);
    expect(rates.errorRate).toBeCloseTo(0.01);
    // 200 requests in the window: 90 under 50 ms, 190 under 100 ms; the 190th is at the 0.1 s bound.
    expect(rates.p95Seconds).toBeCloseTo(0.1);
  });

  it("starts over when the server restarted", () => {
    const before = snapshotOf(parsePrometheus(scrape(1000, 0, [["+Inf", 1000]])), 0);
    const after = snapshotOf(parsePrometheus(scrape(10, 0, [["+Inf", 10]])), 1000);
    expect(ratesBetween(before, after).requestsPerSecond).toBe(10);
  });
});

describe("histogram quantile", () => {
  it("interpolates inside the bucket, as PromQL does", () => {
    const buckets = new Map([
      [0.1, 50],
      [0.2, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.15);
  });

  it("has no answer without traffic", () => {
    expect(histogramQuantile(0.95, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeNull();
  });
});
