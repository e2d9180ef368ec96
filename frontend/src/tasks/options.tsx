import { PRIORITY_LABELS, REPEAT_UNITS, STATUS_LABELS, TASK_PRIORITIES, TASK_STATUSES } from "../api/types";

/** The <option>s for a task's status, in workflow order. */
export function StatusOptions() {
  return TASK_STATUSES.map((status) => (
    <option key={status} value={status}>
      {STATUS_LABELS[status]}
    </option>
  ));
}

/** The <option>s for a task's priority, lowest first. */
export function PriorityOptions() {
  return TASK_PRIORITIES.map((priority) => (
    <option key={priority} value={priority}>
      {PRIORITY_LABELS[priority]}
    </option>
  ));
}

export const REPEAT_UNIT_LABELS = { day: "Days", week: "Weeks", month: "Months" } as const;

/** The <option>s for how a task repeats: not at all, or every so many days, weeks or months. */
export function RepeatOptions() {
  return (
    <>
      <option value="">Doesn't repeat</option>
      {REPEAT_UNITS.map((unit) => (
        <option key={unit} value={unit}>
          Every few {REPEAT_UNIT_LABELS[unit].toLowerCase()}
        </option>
      ))}
    </>
  );
}
