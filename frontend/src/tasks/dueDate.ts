import type { TaskStatus } from "../api/types";

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600_000],
  ["month", 30 * 24 * 3600_000],
  ["week", 7 * 24 * 3600_000],
  ["day", 24 * 3600_000],
  ["hour", 3600_000],
  ["minute", 60_000],
];

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "in 2 days", "tomorrow", "3 hours ago": the largest unit that fits. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const difference = new Date(iso).getTime() - now.getTime();
  for (const [unit, size] of UNITS) {
    if (Math.abs(difference) >= size || unit === "minute") {
      return relative.format(Math.round(difference / size), unit);
    }
  }
  return relative.format(0, "minute");
}

export interface DueLabel {
  text: string;
  overdue: boolean;
}

export function dueLabel(dueDate: string | null, status: TaskStatus, now: Date = new Date()): DueLabel | null {
  if (dueDate === null) {
    return null;
  }
  const overdue = status !== "completed" && new Date(dueDate).getTime() < now.getTime();
  const when = relativeTime(dueDate, now);
  return overdue ? { text: `Overdue (${when})`, overdue } : { text: `Due ${when}`, overdue };
}
