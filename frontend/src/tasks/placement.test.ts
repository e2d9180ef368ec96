import { describe, expect, it } from "vitest";

import type { Task, TaskStatus } from "../api/types";
import { columnId, placeDrop, type Columns } from "./placement";

function task(id: string, status: TaskStatus): Task {
  return {
    id,
    _id: id,
    title: `Task ${id}`,
    description: "",
    status,
    priority: "medium",
    dueDate: null,
    createdBy: { id: "u1", _id: "u1", name: "Owner", email: "owner@example.com" },
    assignee: null,
    labels: [],
    position: "a0",
    repeat: null,
    projectId: "p1",
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-01T10:00:00.000Z",
    version: 1,
  };
}

const board: Columns = {
  pending: [task("a", "pending"), task("b", "pending"), task("c", "pending")],
  "in-progress": [task("d", "in-progress")],
  completed: [],
};

const ids = (columns: Columns, status: TaskStatus) => columns[status].map((one) => one.id);

function placed(taskId: string, overId: string) {
  const placement = placeDrop(board, taskId, overId);
  if (placement === null) throw new Error(`dropping ${taskId} on ${overId} changed nothing`);
  return placement;
}

describe("placeDrop", () => {
  it("moves down a column: the task takes the place of the one it is dropped on", () => {
    const placement = placed("a", "c");
    expect(placement.move).toEqual({ status: "pending", afterId: "c", beforeId: null });
    expect(ids(placement.columns, "pending")).toEqual(["b", "c", "a"]);
  });

  it("moves up a column, between two tasks", () => {
    const placement = placed("c", "b");
    expect(placement.move).toEqual({ status: "pending", afterId: "a", beforeId: "b" });
    expect(ids(placement.columns, "pending")).toEqual(["a", "c", "b"]);
  });

  it("moves to another column, before the task it is dropped on, with its new status", () => {
    const placement = placed("b", "d");
    expect(placement.move).toEqual({ status: "in-progress", afterId: null, beforeId: "d" });
    expect(ids(placement.columns, "pending")).toEqual(["a", "c"]);
    expect(ids(placement.columns, "in-progress")).toEqual(["b", "d"]);
    expect(placement.columns["in-progress"][0]?.status).toBe("in-progress");
  });

  it("drops on a column: at its end, an empty one included", () => {
    expect(placed("a", columnId("completed")).move).toEqual({
      status: "completed",
      afterId: null,
      beforeId: null,
    });
    expect(placed("a", columnId("in-progress")).move).toEqual({
      status: "in-progress",
      afterId: "d",
      beforeId: null,
    });
  });

  it("changes nothing when dropped where it was, or nowhere known", () => {
    expect(placeDrop(board, "b", "b")).toBeNull();
    expect(placeDrop(board, "c", columnId("pending"))).toBeNull();
    expect(placeDrop(board, "a", "nowhere")).toBeNull();
    expect(placeDrop(board, "missing", "a")).toBeNull();
  });
});
