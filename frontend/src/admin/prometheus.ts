// Reads Prometheus' text format and turns two scrapes into rates, as a dashboard query would.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const [, name = "", labelText = "", rawValue = ""] = match;
    const labels: Record<string, string> = {};
    for (const label of labelText.matchAll(LABEL)) {
      labels[label[1] ?? ""] = (label[2] ?? "").replace(/\\(.)/g, (_, escaped: string) =>
        escaped === "n" ? "\n" : escaped,
      );
    }
    const value = Number(rawValue);
    if (!Number.isNaN(value)) samples.push({ name, labels, value });
  }
  return samples;
}

/** Counters at one instant: requests, server errors and the latency histogram's buckets. */
export interface Snapshot {
  at: number;
  requests: number;
  errors: number;
  buckets: Map<number, number>;
}

const REQUESTS = "taskyard_http_requests_total";
const LATENCY_BUCKET = "taskyard_http_request_duration_seconds_bucket";

/** The panel's own polling would otherwise be most of what it shows. */
function isMonitoring(route: string | undefined): boolean {
  return route === "/metrics" || (route ?? "").startsWith("/health");
}

export function snapshotOf(samples: Sample[], at: number): Snapshot {
  const snapshot: Snapshot = { at, requests: 0, errors: 0, buckets: new Map() };
  for (const sample of samples) {
    if (isMonitoring(sample.labels.route)) continue;
    if (sample.name === REQUESTS) {
      snapshot.requests += sample.value;
      if ((sample.labels.status ?? "").startsWith("5")) snapshot.errors += sample.value;
    } else if (sample.name === LATENCY_BUCKET) {
      const bound = sample.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
      snapshot.buckets.set(bound, (snapshot.buckets.get(bound) ?? 0) + sample.value);
    }
  }
  return snapshot;
}

/** Like PromQL's histogram_quantile over cumulative bucket counts: linear within a bucket. */
export function histogramQuantile(quantile: number, buckets: Map<number, number>): number | null {
  const bounds = [...buckets.entries()].sort(([a], [b]) => a - b);
  const total = bounds.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = quantile * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of bounds) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return previousBound;
      const inBucket = count - previousCount;
      return inBucket === 0 ? bound : previousBound + ((bound - previousBound) * (rank - previousCount)) / inBucket;
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

export interface Rates {
  at: number;
  requestsPerSecond: number;
  errorRate: number;
  p95Seconds: number | null;
}

/** What happened between two scrapes. A restarted server (counters went down) counts from zero. */
export function ratesBetween(before: Snapshot, after: Snapshot): Rates {
  const seconds = Math.max((after.at - before.at) / 1000, 0.001);
  const restarted = after.requests < before.requests;
  const requests = restarted ? after.requests : after.requests - before.requests;
  const errors = restarted ? after.errors : after.errors - before.errors;
  const window = new Map<number, number>();
  for (const [bound, count] of after.buckets) {
    window.set(bound, restarted ? count : count - (before.buckets.get(bound) ?? 0));
  }
  return {
    at: after.at,
    requestsPerSecond: requests / seconds,
    errorRate: requests > 0 ? errors / requests : 0,
    p95Seconds: histogramQuantile(0.95, window),
  };
}
