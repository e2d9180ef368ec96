import { PRIORITY_LABELS, STATUS_LABELS, type Label, type Task, type TaskStatus } from "../api/types";
import { dueLabel } from "./dueDate";
import { LabelChip } from "./LabelChip";
import { StatusOptions } from "./options";
import type { TaskRights } from "./rights";

interface TaskCardProps {
  task: Task;
  showOwner: boolean;
  rights: TaskRights;
  /** Its project's labels, when the page knows them. */
  labels: readonly Label[];
  statusBusy: boolean;
  onStatus: (task: Task, status: TaskStatus) => void;
  /** Opens the task: its form, or what it says; its comments and activity. */
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
}

/** The task's labels that the page knows, as chips. */
export function LabelChips({ task, labels }: { task: Task; labels: readonly Label[] }) {
  const carried = labels.filter((label) => task.labels.includes(label.id));
  return carried.length === 0 ? null : (
    <span className="label-chips">
      {carried.map((label) => (
        <LabelChip key={label.id} label={label} />
      ))}
    </span>
  );
}

export function TaskCard({ task, showOwner, rights, labels, statusBusy, onStatus, onEdit, onDelete }: TaskCardProps) {
  const due = dueLabel(task.dueDate, task.status);
  const statusId = `status-${task.id}`;
  return (
    <li className={`task-card task-${task.status}`} data-testid="task-card" data-task-id={task.id}>
      <div className="task-main">
        <h3 className="task-title">{task.title}</h3>
        {task.description && <p className="task-description">{task.description}</p>}
        <p className="task-meta">
          <span className={`badge priority-${task.priority}`}>{PRIORITY_LABELS[task.priority]}</span>
          {due && (
            <time
              dateTime={task.dueDate ?? undefined}
              className={due.overdue ? "due overdue" : "due"}
              title={new Date(task.dueDate ?? "").toLocaleString()}
            >
              {due.text}
            </time>
          )}
          {showOwner && <span className="task-owner">Owner: {task.createdBy.name}</span>}
          {task.assignee && <span className="task-assignee">Assigned to {task.assignee.name}</span>}
          {task.repeat && <span className="task-repeat">Repeats</span>}
          <LabelChips task={task} labels={labels} />
        </p>
      </div>
      <div className="task-actions">
        {rights.status ? (
          <>
            <label htmlFor={statusId} className="visually-hidden">
              Status of {task.title}
            </label>
            <select
              id={statusId}
              value={task.status}
              disabled={statusBusy}
              onChange={(event) => onStatus(task, event.target.value as TaskStatus)}
              className={`status-select status-${task.status}`}
            >
              <StatusOptions />
            </select>
          </>
        ) : (
          <span className={`badge status-badge status-${task.status}`}>{STATUS_LABELS[task.status]}</span>
        )}
        {rights.edit ? (
          <>
            <button
              type="button"
              className="button-secondary"
              onClick={() => onEdit(task)}
              aria-label={`Edit ${task.title}`}
            >
              Edit
            </button>
            <button
              type="button"
              className="button-danger-outline"
              onClick={() => onDelete(task)}
              aria-label={`Delete ${task.title}`}
            >
              Delete
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button-secondary"
            onClick={() => onEdit(task)}
            aria-label={`Details of ${task.title}`}
          >
            Details
          </button>
        )}
      </div>
    </li>
  );
}
