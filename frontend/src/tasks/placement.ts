// Where a task dropped on the board lands: pure, so the board and its tests share it.
import { TASK_STATUSES, type Task, type TaskMove, type TaskStatus } from "../api/types";

/** Each status column's tasks, in board order. */
export type Columns = Record<TaskStatus, readonly Task[]>;

const COLUMN_PREFIX = "column:";

export const columnId = (status: TaskStatus) => `${COLUMN_PREFIX}${status}`;

function statusOfColumn(id: string): TaskStatus | undefined {
  return TASK_STATUSES.find((status) => columnId(status) === id);
}

function whereIs(columns: Columns, taskId: string): { status: TaskStatus; index: number } | undefined {
  for (const status of TASK_STATUSES) {
    const index = columns[status].findIndex((task) => task.id === taskId);
    if (index >= 0) return { status, index };
  }
  return undefined;
}

export interface Placement {
  /** What the server is asked: the column, and the neighbours the task goes between. */
  move: TaskMove;
  /** The board as it will look once the move is done. */
  columns: Columns;
}

/**
 * The move a drop makes: over a task, the task takes its place (its column, its index); over a
 * column, the end of it. Null when the drop changes nothing.
 */
export function placeDrop(columns: Columns, taskId: string, overId: string): Placement | null {
  const from = whereIs(columns, taskId);
  if (from === undefined) return null;
  const overColumn = statusOfColumn(overId);
  const over = overColumn === undefined ? whereIs(columns, overId) : undefined;
  const status = overColumn ?? over?.status;
  if (status === undefined) return null;
  const task = columns[from.status][from.index] as Task;
  const target = columns[status].filter((other) => other.id !== taskId);
  const index = over === undefined ? target.length : over.index;
  if (status === from.status && index === from.index) return null;

  const placed = [...target.slice(0, index), { ...task, status }, ...target.slice(index)];
  const move: TaskMove = {
    status,
    afterId: placed[index - 1]?.id ?? null,
    beforeId: placed[index + 1]?.id ?? null,
  };
  const next = { ...columns, [status]: placed };
  if (from.status !== status) {
    next[from.status] = columns[from.status].filter((other) => other.id !== taskId);
  }
  return { move, columns: next };
}
