import { describe, expect, it } from "vitest";

import openapi from "../../openapi.json";
import { NAME_MAX, NAME_MIN, PASSWORD_MAX, PASSWORD_MIN } from "../auth/authSchemas";
import type { Task } from "../api/types";
import {
  COMMENT_MAX,
  DESCRIPTION_MAX,
  EMAIL_MAX,
  REPEAT_EVERY_MAX,
  TITLE_MAX,
  TITLE_MIN,
  formValuesOf,
  taskFormSchema,
  toCreate,
  toUpdate,
} from "./taskSchema";

const schemas = openapi.components.schemas;

describe("client rules match the server's", () => {
  it("for tasks", () => {
    const task = schemas.TaskCreate.properties;
    expect([task.title.minLength, task.title.maxLength]).toEqual([TITLE_MIN, TITLE_MAX]);
    expect(task.description.maxLength).toBe(DESCRIPTION_MAX);
    expect(task.assigneeEmail.anyOf[0]?.maxLength).toBe(EMAIL_MAX);
    expect(schemas.RepeatRule.properties.every.maximum).toBe(REPEAT_EVERY_MAX);
    expect(schemas.CommentInput.properties.body.maxLength).toBe(COMMENT_MAX);
  });

  it("for registration", () => {
    const register = schemas.RegisterInput.properties;
    expect([register.name.minLength, register.name.maxLength]).toEqual([NAME_MIN, NAME_MAX]);
    expect([register.password.minLength, register.password.maxLength]).toEqual([PASSWORD_MIN, PASSWORD_MAX]);
  });
});

const TASK: Task = {
  id: "7d0c2b9e-0000-4000-8000-000000000001",
  _id: "7d0c2b9e-0000-4000-8000-000000000001",
  title: "Original",
  description: "",
  status: "pending",
  priority: "medium",
  dueDate: null,
  createdBy: { id: "u1", _id: "u1", name: "Owner", email: "owner@example.com" },
  assignee: { id: "u2", _id: "u2", name: "Helper", email: "helper@example.com" },
  createdAt: "2026-11-01T10:00:00.000Z",
  updatedAt: "2026-11-01T10:00:00.000Z",
  version: 1,
  projectId: "u1",
  labels: [],
  position: "a0",
  repeat: null,
};

describe("toUpdate", () => {
  it("sends only what changed", () => {
    expect(toUpdate(TASK, { ...formValuesOf(TASK), title: "Renamed" })).toEqual({ title: "Renamed" });
    expect(toUpdate(TASK, formValuesOf(TASK))).toEqual({});
  });

  it("unassigns with assigneeId null when the email is cleared", () => {
    expect(toUpdate(TASK, { ...formValuesOf(TASK), assigneeEmail: "" })).toEqual({ assigneeId: null });
  });

  it("clears the due date with null", () => {
    const due = { ...TASK, dueDate: "2026-12-24T18:00:00.000Z" };
    expect(toUpdate(due, { ...formValuesOf(due), dueDate: "" })).toEqual({ dueDate: null });
  });
});

describe("labels and repeat", () => {
  it("sends labels only when the set changed, whatever the order", () => {
    const labelled = { ...TASK, labels: ["l1", "l2"] };
    expect(toUpdate(labelled, { ...formValuesOf(labelled), labels: ["l2", "l1"] })).toEqual({});
    expect(toUpdate(labelled, { ...formValuesOf(labelled), labels: ["l1"] })).toEqual({ labels: ["l1"] });
    expect(toUpdate(labelled, { ...formValuesOf(labelled), labels: [] })).toEqual({ labels: [] });
  });

  it("sets, changes and clears the repeat rule", () => {
    expect(toUpdate(TASK, { ...formValuesOf(TASK), repeatUnit: "week", repeatEvery: "2" })).toEqual({
      repeat: { every: 2, unit: "week" },
    });
    const weekly = { ...TASK, repeat: { every: 1, unit: "week" as const } };
    expect(toUpdate(weekly, formValuesOf(weekly))).toEqual({});
    expect(toUpdate(weekly, { ...formValuesOf(weekly), repeatUnit: "" })).toEqual({ repeat: null });
  });

  it("creates in the project given, with its labels and rule", () => {
    const values = { ...formValuesOf(TASK), labels: ["l1"], repeatUnit: "month" as const, repeatEvery: "3" };
    expect(toCreate(values, "p1")).toMatchObject({
      projectId: "p1",
      labels: ["l1"],
      repeat: { every: 3, unit: "month" },
    });
    expect(toCreate(formValuesOf(TASK))).not.toHaveProperty("projectId");
  });

  it("checks the interval only for a task that repeats", () => {
    const values = formValuesOf(TASK);
    expect(taskFormSchema.safeParse({ ...values, repeatUnit: "day", repeatEvery: "0" }).success).toBe(false);
    expect(taskFormSchema.safeParse({ ...values, repeatUnit: "day", repeatEvery: "366" }).success).toBe(false);
    expect(taskFormSchema.safeParse({ ...values, repeatUnit: "day", repeatEvery: "365" }).success).toBe(true);
    expect(taskFormSchema.safeParse({ ...values, repeatUnit: "", repeatEvery: "x" }).success).toBe(true);
  });
});
