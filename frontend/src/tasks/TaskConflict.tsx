import type { Task } from "../api/types";
import { formValuesOf, type TaskFormValues } from "./taskSchema";

const LABELS: Record<keyof TaskFormValues, string> = {
  title: "Title",
  description: "Description",
  status: "Status",
  priority: "Priority",
  dueDate: "Due date",
  assigneeEmail: "Assignee",
  labels: "Labels",
  repeatUnit: "Repeat",
  repeatEvery: "Repeat interval",
};

function shown(value: string | string[]): string {
  if (Array.isArray(value)) return value.length === 0 ? "(none)" : `${String(value.length)} labels`;
  return value === "" ? "(none)" : `“${value}”`;
}

const same = (one: string | string[], other: string | string[]) =>
  Array.isArray(one) && Array.isArray(other) ? [...one].sort().join() === [...other].sort().join() : one === other;

/** What someone else changed since the form opened: each field, from what it was to what it is. */
export function changesBetween(before: Task, now: Task): { field: string; was: string; is: string }[] {
  const was = formValuesOf(before);
  const is = formValuesOf(now);
  return (Object.keys(LABELS) as (keyof TaskFormValues)[])
    .filter((field) => !same(was[field], is[field]))
    .map((field) => ({ field: LABELS[field], was: shown(was[field]), is: shown(is[field]) }));
}

interface TaskConflictProps {
  before: Task;
  current: Task;
  busy: boolean;
  onKeepMine: () => void;
  onUseTheirs: () => void;
}

/** The edit met a newer version of the task (412): say what changed, and let the person choose. */
export function TaskConflict({ before, current, busy, onKeepMine, onUseTheirs }: TaskConflictProps) {
  const changes = changesBetween(before, current);
  return (
    <div className="task-conflict" role="alert" data-testid="task-conflict">
      <p>
        <strong>Someone changed this task while you were editing it.</strong>
      </p>
      {changes.length === 0 ? (
        <p>Nothing you can see here changed.</p>
      ) : (
        <ul>
          {changes.map((change) => (
            <li key={change.field}>
              {change.field}: {change.was} → {change.is}
            </li>
          ))}
        </ul>
      )}
      <div className="task-conflict-actions">
        <button type="button" onClick={onKeepMine} disabled={busy}>
          Keep my changes
        </button>
        <button type="button" className="button-secondary" onClick={onUseTheirs} disabled={busy}>
          Use theirs
        </button>
      </div>
    </div>
  );
}
