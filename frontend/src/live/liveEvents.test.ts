import { describe, expect, it } from "vitest";

import { queryKeys } from "../api/queries";
import { EVERYTHING, RECONNECT_MAX_MS, parseLiveEvent, reconnectDelay, staleKeys } from "./liveEvents";

const event = (type: string, taskId: string | null = "t1") => {
  const parsed = parseLiveEvent(
    JSON.stringify({ type, projectId: "p1", taskId, actorId: "a1", at: "2026-12-05T00:00:00Z", data: {} }),
  );
  if (parsed === null) {
    throw new Error(`not a live event: ${type}`);
  }
  return parsed;
};

describe("live events", () => {
  it("marks task views stale for task events", () => {
    expect(staleKeys(event("task.moved"))).toEqual([queryKeys.tasks]);
  });

  it("marks only the task's discussion stale for a comment", () => {
    expect(staleKeys(event("comment.created"))).toEqual([queryKeys.comments("t1"), queryKeys.activity("t1")]);
  });

  it("marks projects and tasks stale when membership changes", () => {
    expect(staleKeys(event("project.member_removed", null))).toEqual([queryKeys.projects, queryKeys.tasks]);
    expect(EVERYTHING).toEqual([queryKeys.tasks, queryKeys.projects]);
  });

  it("ignores what it doesn't know", () => {
    expect(parseLiveEvent('{"type":"something.else"}')).toBeNull();
    expect(parseLiveEvent("not json")).toBeNull();
  });

  it("backs off exponentially, with jitter, up to a ceiling", () => {
    expect(reconnectDelay(1, () => 0)).toBe(500);
    expect(reconnectDelay(1, () => 1)).toBe(1000);
    expect(reconnectDelay(4, () => 1)).toBe(8000);
    expect(reconnectDelay(20, () => 1)).toBe(RECONNECT_MAX_MS);
  });
});
