interface SparklineProps {
  label: string;
  values: number[];
  format: (value: number) => string;
}

const WIDTH = 160;
const HEIGHT = 40;

/** A small line chart; the latest value is also written out, for everyone who can't see it. */
export function Sparkline({ label, values, format }: SparklineProps) {
  const latest = values.at(-1);
  const top = Math.max(...values, 0) || 1;
  const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
  const points = values.map(
    (value, index) => `${(index * step).toFixed(1)},${(HEIGHT - (value / top) * (HEIGHT - 4) - 2).toFixed(1)}`,
  );
  return (
    <figure className="metric-card">
      <figcaption>{label}</figcaption>
      <p className="metric-value" data-testid={`metric-${label}`}>
        {latest === undefined ? "—" : format(latest)}
      </p>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="sparkline"
        role="img"
        aria-label={`${label} over the last ${values.length} samples${latest === undefined ? "" : `, now ${format(latest)}`}`}
        preserveAspectRatio="none"
      >
        {points.length > 1 && <polyline points={points.join(" ")} fill="none" strokeWidth="2" />}
      </svg>
    </figure>
  );
}
