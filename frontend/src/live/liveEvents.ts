// What each live event changes in the client's cache, and how long to wait before reconnecting:
// pure functions, so they are tested without a server (liveEvents.test.ts).
import { queryKeys } from "../api/queries";

export const LIVE_EVENT_TYPES = [
  "task.created",
  "task.updated",
  "task.deleted",
  "task.moved",
  "comment.created",
  "project.updated",
  "project.deleted",
  "project.member_added",
  "project.member_removed",
] as const;

export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

export interface LiveEvent {
  type: LiveEventType;
  projectId: string;
  taskId: string | null;
  actorId: string;
  at: string;
  data: unknown;
}

/** The query keys an event makes stale (each key covers every query it prefixes). */
export function staleKeys(event: LiveEvent): (readonly string[])[] {
  const task = event.taskId;
  switch (event.type) {
    case "task.created":
    case "task.updated":
    case "task.deleted":
    case "task.moved":
      // Lists, the board and stats; the task's own activity trail.
      return [queryKeys.tasks];
    case "comment.created":
      return task === null ? [queryKeys.tasks] : [queryKeys.comments(task), queryKeys.activity(task)];
    case "project.updated":
    case "project.deleted":
    case "project.member_added":
    case "project.member_removed":
      // Names, roles and who is in it: the sidebar, the project page, and what tasks show.
      return [queryKeys.projects, queryKeys.tasks];
  }
}

/** Everything: what `resync` asks for, when what was missed is no longer kept. */
export const EVERYTHING: (readonly string[])[] = [queryKeys.tasks, queryKeys.projects];

export const RECONNECT_FIRST_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;

/** Exponential backoff with full jitter: a server back from an outage isn't met by every tab at once. */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function parseLiveEvent(data: string): LiveEvent | null {
  try {
    const parsed = JSON.parse(data) as Partial<LiveEvent>;
    if (typeof parsed.type !== "string" || !(LIVE_EVENT_TYPES as readonly string[]).includes(parsed.type)) {
      return null;
    }
    return parsed as LiveEvent;
  } catch {
    return null;
  }
}
