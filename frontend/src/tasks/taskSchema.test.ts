import { describe, expect, it } from "vitest";

import openapi from "../../openapi.json";
import { NAME_MAX, NAME_MIN, PASSWORD_MAX, PASSWORD_MIN } from "../auth/authSchemas";
import type { Task } from "../api/types";
import { DESCRIPTION_MAX, EMAIL_MAX, TITLE_MAX, TITLE_MIN, formValuesOf, toUpdate } from "./taskSchema";

const schemas = openapi.components.schemas;

describe("client rules match the server's", () => {
  it("for tasks", () => {
    const task = schemas.TaskCreate.properties;
    expect([task.title.minLength, task.title.maxLength]).toEqual([TITLE_MIN, TITLE_MAX]);
    expect(task.description.maxLength).toBe(DESCRIPTION_MAX);
    expect(task.assigneeEmail.anyOf[0]?.maxLength).toBe(EMAIL_MAX);
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
