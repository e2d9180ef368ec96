import { PRIORITY_LABELS, STATUS_LABELS, TASK_PRIORITIES, TASK_STATUSES } from "../api/types";

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
