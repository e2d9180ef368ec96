import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { opsApi } from "../api/endpoints";
import type { ClusterOverview, InstanceState } from "../api/types";
import { messageOf } from "../ui/forms";
import { Failed, Loading, Page } from "../ui/Page";
import { parsePrometheus, ratesBetween, snapshotOf, type Rates, type Snapshot } from "./prometheus";
import { Sparkline } from "./Sparkline";

const POLL_MILLISECONDS = 2000;
const HISTORY = 60;

interface ComponentState {
  status: string;
  required?: boolean;
  detail?: string | null;
}

interface Readiness {
  status: string;
  components: Record<string, ComponentState>;
}

async function scrapeMetrics(): Promise<Snapshot> {
  const response = await fetch("/metrics", { cache: "no-store" });
  if (!response.ok) throw new Error(`metrics answered ${response.status}`);
  return snapshotOf(parsePrometheus(await response.text()), Date.now());
}

async function readReadiness(): Promise<Readiness> {
  // 503 still carries the component states, which is when they matter most.
  const response = await fetch("/health/ready", { cache: "no-store", headers: { Accept: "application/json" } });
  return (await response.json()) as Readiness;
}

/** One point of the panel's history from Prometheus' figures (null until it has two scrapes). */
function ratesOf(cluster: ClusterOverview, at: number): Rates {
  return {
    at,
    requestsPerSecond: cluster.requestsPerSecond ?? 0,
    errorRate: cluster.errorRate ?? 0,
    p95Seconds: cluster.p95Seconds ?? null,
  };
}

function instancesScraped(count: number): string {
  return count === 1 ? "1 instance" : `${count} instances`;
}

function instanceStatus(instance: InstanceState): string {
  if (!instance.up) return "down";
  return instance.ready ? "ready" : "degraded";
}

function details(state: ComponentState): string {
  const parts = [state.required === false ? "optional" : "required"];
  if (state.detail) parts.push(state.detail);
  return parts.join(" · ");
}

export function OpsPage() {
  const previous = useRef<Snapshot | null>(null);
  const [history, setHistory] = useState<Rates[]>([]);
  // Where the figures come from: Prometheus (every instance) when the server has one, else here.
  const cluster = useQuery({
    queryKey: ["ops", "cluster"],
    queryFn: async ({ signal }) => {
      const figures = await opsApi.cluster(signal);
      if (figures.source === "prometheus" && figures.requestsPerSecond != null) {
        setHistory((current) => [...current.slice(-(HISTORY - 1)), ratesOf(figures, Date.now())]);
      }
      return figures;
    },
    refetchInterval: POLL_MILLISECONDS,
    gcTime: 0,
  });
  const fromPrometheus = cluster.data?.source === "prometheus";
  const metrics = useQuery({
    queryKey: ["ops", "metrics"],
    queryFn: scrapeMetrics,
    refetchInterval: POLL_MILLISECONDS,
    gcTime: 0,
    enabled: cluster.data?.source === "instance",
  });
  const readiness = useQuery({
    queryKey: ["ops", "ready"],
    queryFn: readReadiness,
    refetchInterval: POLL_MILLISECONDS,
    gcTime: 0,
  });

  useEffect(() => {
    const snapshot = metrics.data;
    if (snapshot === undefined || snapshot === previous.current) return;
    const before = previous.current;
    previous.current = snapshot;
    if (before !== null) {
      setHistory((current) => [...current.slice(-(HISTORY - 1)), ratesBetween(before, snapshot)]);
    }
  }, [metrics.data]);

  const p95 = history.filter((point) => point.p95Seconds !== null).map((point) => (point.p95Seconds ?? 0) * 1000);
  return (
    <Page
      title="Operations"
      intro={
        fromPrometheus ? (
          <>
            Live from Prometheus, across the {instancesScraped(cluster.data?.instances.length ?? 0)} it scrapes, every{" "}
            {POLL_MILLISECONDS / 1000} seconds (rates over the last minute); components from the instance that answered.
            Probe and metrics requests are left out.
          </>
        ) : (
          <>
            Live from this instance's <code>/metrics</code> and <code>/health/ready</code>, every{" "}
            {POLL_MILLISECONDS / 1000} seconds. Probe and metrics requests are left out.
          </>
        )
      }
    >
      {cluster.isError && <Failed>Couldn't read the cluster's figures: {messageOf(cluster.error)}</Failed>}
      {metrics.isError && <Failed>Couldn't read metrics: {messageOf(metrics.error)}</Failed>}
      <section aria-labelledby="traffic-heading">
        <h2 id="traffic-heading">Traffic</h2>
        {history.length === 0 ? (
          <Loading>Collecting the first samples…</Loading>
        ) : (
          <div className="metric-grid">
            <Sparkline
              label="Requests per second"
              values={history.map((point) => point.requestsPerSecond)}
              format={(value) => value.toFixed(1)}
            />
            <Sparkline label="p95 latency" values={p95} format={(value) => `${value.toFixed(0)} ms`} />
            <Sparkline
              label="Error rate"
              values={history.map((point) => point.errorRate * 100)}
              format={(value) => `${value.toFixed(2)} %`}
            />
          </div>
        )}
      </section>
      {fromPrometheus && cluster.data && (
        <section aria-labelledby="instances-heading">
          <h2 id="instances-heading">Instances</h2>
          {cluster.data.availability != null && (
            <p data-testid="availability">
              Available {(cluster.data.availability * 100).toFixed(2)} % of the last hour (target 99.9 %)
            </p>
          )}
          <ul className="component-list">
            {cluster.data.instances.map((instance) => (
              <li key={instance.instance} className="component" data-testid={`instance-${instance.instance}`}>
                <span className={`status-dot state-${instanceStatus(instance)}`} aria-hidden="true" />
                <strong>{instance.instance}</strong>{" "}
                <span className={`badge state-${instanceStatus(instance)}`}>{instanceStatus(instance)}</span>
                <span className="component-detail">{instance.service}</span>
              </li>
            ))}
          </ul>
          <h3>Alerts</h3>
          {cluster.data.alerts.length === 0 ? (
            <p data-testid="alerts">None firing.</p>
          ) : (
            <ul className="component-list" data-testid="alerts">
              {cluster.data.alerts.map((alert) => (
                <li key={`${alert.name}-${alert.since ?? ""}`} className="component">
                  <span className="status-dot state-down" aria-hidden="true" />
                  <strong>{alert.name}</strong>{" "}
                  {alert.severity && <span className="badge state-down">{alert.severity}</span>}
                  <span className="component-detail">{alert.summary}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <section aria-labelledby="components-heading">
        <h2 id="components-heading">
          Components{" "}
          {readiness.data && <span className={`badge state-${readiness.data.status}`}>{readiness.data.status}</span>}
        </h2>
        {readiness.isError ? (
          <Failed>Couldn't read readiness: {messageOf(readiness.error)}</Failed>
        ) : readiness.data === undefined ? (
          <Loading>Checking components…</Loading>
        ) : (
          <ul className="component-list">
            {Object.entries(readiness.data.components).map(([name, state]) => (
              <li key={name} className="component" data-testid={`component-${name}`}>
                <span className={`status-dot state-${state.status}`} aria-hidden="true" />
                <strong>{name}</strong> <span className={`badge state-${state.status}`}>{state.status}</span>
                <span className="component-detail">{details(state)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
