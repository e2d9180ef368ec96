import { PRIORITY_LABELS, type Task, type TaskStatus } from "../api/types";
import { dueLabel } from "./dueDate";
import { StatusOptions } from "./options";

interface TaskCardProps {
  task: Task;
  showOwner: boolean;
  canEdit: boolean;
  statusBusy: boolean;
  onStatus: (task: Task, status: TaskStatus) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
}

export function TaskCard({ task, showOwner, canEdit, statusBusy, onStatus, onEdit, onDelete }: TaskCardProps) {
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
        </p>
      </div>
      <div className="task-actions">
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
        {canEdit && (
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
        )}
      </div>
    </li>
  );
}
