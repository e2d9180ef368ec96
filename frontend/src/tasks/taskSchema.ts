import { z } from "zod";

import {
  REPEAT_UNITS,
  TASK_PRIORITIES,
  TASK_STATUSES,
  type RepeatRule,
  type Task,
  type TaskCreate,
  type TaskUpdate,
} from "../api/types";

// The server's rules (TaskCreate in the OpenAPI document); a test keeps these in step.
export const TITLE_MIN = 3;
export const TITLE_MAX = 100;
export const DESCRIPTION_MAX = 500;
export const EMAIL_MAX = 254;
export const REPEAT_EVERY_MAX = 365;
export const COMMENT_MAX = 5000;

export const taskFormSchema = z
  .object({
    title: z
      .string()
      .trim()
      .min(TITLE_MIN, `Title must be at least ${TITLE_MIN} characters`)
      .max(TITLE_MAX, `Title must be at most ${TITLE_MAX} characters`),
    description: z.string().max(DESCRIPTION_MAX, `Description must be at most ${DESCRIPTION_MAX} characters`),
    status: z.enum(TASK_STATUSES),
    priority: z.enum(TASK_PRIORITIES),
    // A datetime-local value, or empty for no due date.
    dueDate: z
      .string()
      .refine((value) => value === "" || !Number.isNaN(new Date(value).getTime()), "Enter a valid date"),
    assigneeEmail: z.union([
      z.literal(""),
      z.string().trim().max(EMAIL_MAX).pipe(z.email("Enter a valid email address")),
    ]),
    labels: z.array(z.string()),
    // "" for a task that doesn't repeat.
    repeatUnit: z.union([z.literal(""), z.enum(REPEAT_UNITS)]),
    repeatEvery: z.string(),
  })
  .superRefine((values, context) => {
    const every = values.repeatEvery.trim();
    const valid = /^\d+$/.test(every) && Number(every) >= 1 && Number(every) <= REPEAT_EVERY_MAX;
    if (values.repeatUnit !== "" && !valid) {
      context.addIssue({
        code: "custom",
        path: ["repeatEvery"],
        message: `Enter a whole number from 1 to ${REPEAT_EVERY_MAX}`,
      });
    }
  });

export type TaskFormValues = z.infer<typeof taskFormSchema>;

export const EMPTY_TASK: TaskFormValues = {
  title: "",
  description: "",
  status: "pending",
  priority: "medium",
  dueDate: "",
  assigneeEmail: "",
  labels: [],
  repeatUnit: "",
  repeatEvery: "1",
};

/** `2026-12-01T09:30:00.000Z` -> `2026-12-01T10:30` in the browser's time zone. */
export function toLocalInput(iso: string | null): string {
  if (!iso) {
    return "";
  }
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function formValuesOf(task: Task): TaskFormValues {
  return {
    title: task.title,
    description: task.description,
    status: task.status,
    priority: task.priority,
    dueDate: toLocalInput(task.dueDate),
    assigneeEmail: task.assignee?.email ?? "",
    labels: [...task.labels],
    repeatUnit: task.repeat?.unit ?? "",
    repeatEvery: String(task.repeat?.every ?? 1),
  };
}

function repeatOf(values: TaskFormValues): RepeatRule | null {
  return values.repeatUnit === "" ? null : { every: Number(values.repeatEvery.trim()), unit: values.repeatUnit };
}

const sameLabels = (one: readonly string[], other: readonly string[]) =>
  one.length === other.length && [...one].sort().join() === [...other].sort().join();

function dueDateOf(values: TaskFormValues): string | null {
  return values.dueDate === "" ? null : new Date(values.dueDate).toISOString();
}

/** `projectId`: the project it goes in; left out, the creator's personal one. */
export function toCreate(values: TaskFormValues, projectId?: string): TaskCreate {
  const create: TaskCreate = {
    ...(projectId === undefined ? {} : { projectId }),
    title: values.title,
    description: values.description,
    status: values.status,
    priority: values.priority,
    dueDate: dueDateOf(values),
  };
  if (values.assigneeEmail !== "") {
    create.assigneeEmail = values.assigneeEmail;
  }
  if (values.labels.length > 0) create.labels = values.labels;
  const repeat = repeatOf(values);
  if (repeat !== null) create.repeat = repeat;
  return create;
}

/** Only what changed, so an edit never overwrites a field someone else just set. */
export function toUpdate(task: Task, values: TaskFormValues): TaskUpdate {
  const before = formValuesOf(task);
  const changes: TaskUpdate = {};
  if (values.title !== before.title) changes.title = values.title;
  if (values.description !== before.description) changes.description = values.description;
  if (values.status !== before.status) changes.status = values.status;
  if (values.priority !== before.priority) changes.priority = values.priority;
  if (values.dueDate !== before.dueDate) changes.dueDate = dueDateOf(values);
  if (values.assigneeEmail !== before.assigneeEmail) {
    if (values.assigneeEmail === "") {
      changes.assigneeId = null;
    } else {
      changes.assigneeEmail = values.assigneeEmail;
    }
  }
  if (!sameLabels(values.labels, before.labels)) changes.labels = values.labels;
  const repeat = repeatOf(values);
  if (JSON.stringify(repeat) !== JSON.stringify(repeatOf(before))) changes.repeat = repeat;
  return changes;
}
