import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCorners,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type UniqueIdentifier,
} from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useQueries } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { tasksApi } from "../api/endpoints";
import { queryKeys, useLabels, useMoveTask, type BoardMove } from "../api/queries";
import {
  PRIORITY_LABELS,
  STATUS_LABELS,
  TASK_STATUSES,
  hasRole,
  type Label,
  type Project,
  type Task,
  type TaskPage,
  type TaskQuery,
  type TaskStatus,
} from "../api/types";
import { messageOf } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { useToast } from "../ui/toast";
import { dueLabel } from "./dueDate";
import { columnId, placeDrop, type Columns } from "./placement";
import { LabelChips } from "./TaskCard";
import { TaskDialog, type Opened } from "./TaskDialog";

/** A column shows this many tasks; the list view pages through the rest. */
export const BOARD_COLUMN_LIMIT = 100;

const columnQuery = (projectId: string, status: TaskStatus): TaskQuery => ({
  projectId,
  status,
  sort: "position",
  limit: BOARD_COLUMN_LIMIT,
});

/** A project's tasks in a column per status, in board order; editors move them by mouse or keyboard. */
export function KanbanBoard({ project }: { project: Project }) {
  const canMove = hasRole(project.role, "editor");
  const columns = useQueries({
    queries: TASK_STATUSES.map((status) => ({
      queryKey: queryKeys.taskList(columnQuery(project.id, status)),
      queryFn: ({ signal }: { signal: AbortSignal }) => tasksApi.list(columnQuery(project.id, status), signal),
    })),
  });
  const labels = useLabels(project.id).data ?? [];
  const moveTask = useMoveTask();
  const toast = useToast();
  const [opened, setOpened] = useState<Opened>(null);
  const sensors = useSensors(
    // A click on the handle stays a click until the pointer has really moved.
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const failed = columns.find((column) => column.isError);
  if (failed !== undefined) {
    return (
      <Failed onRetry={() => columns.forEach((column) => void column.refetch())}>
        Couldn't load the board: {messageOf(failed.error)}
      </Failed>
    );
  }
  const pages = columns.map((column) => column.data).filter((page) => page !== undefined);
  if (pages.length < columns.length) {
    return <Loading>Loading the board…</Loading>;
  }
  const [pending, inProgress, completed] = pages.map((page) => page.data);
  const board: Columns = { pending: pending ?? [], "in-progress": inProgress ?? [], completed: completed ?? [] };
  const totals = TASK_STATUSES.map((_status, index) => pages[index]?.total ?? 0);
  const titleOf = (id: UniqueIdentifier) =>
    TASK_STATUSES.flatMap((status) => board[status]).find((task) => task.id === id)?.title ?? "the task";
  const placeOf = (id: UniqueIdentifier, moving: UniqueIdentifier) => {
    if (id === moving) return "its own place";
    const column = TASK_STATUSES.find((status) => columnId(status) === id);
    if (column !== undefined) return `the end of the ${STATUS_LABELS[column]} column`;
    const status = TASK_STATUSES.find((candidate) => board[candidate].some((task) => task.id === id));
    return status === undefined ? "the board" : `“${titleOf(id)}” in ${STATUS_LABELS[status]}`;
  };
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up “${titleOf(active.id)}”.`,
    onDragOver: ({ active, over }) =>
      over
        ? `“${titleOf(active.id)}” is over ${placeOf(over.id, active.id)}.`
        : `“${titleOf(active.id)}” is over no column.`,
    onDragEnd: ({ active, over }) =>
      over
        ? `“${titleOf(active.id)}” was dropped on ${placeOf(over.id, active.id)}.`
        : `“${titleOf(active.id)}” was put back.`,
    onDragCancel: ({ active }) => `Moving “${titleOf(active.id)}” was cancelled; it is back where it was.`,
  };

  const drop = ({ active, over }: DragEndEvent) => {
    if (over === null) return;
    const placed = placeDrop(board, String(active.id), String(over.id));
    if (placed === null) return;
    const outcome: BoardMove["columns"] = TASK_STATUSES.map((status, index) => {
      const page = pages[index] as TaskPage;
      const tasks = placed.columns[status];
      const total = page.total + tasks.length - board[status].length;
      return [
        queryKeys.taskList(columnQuery(project.id, status)),
        { ...page, data: [...tasks], count: tasks.length, total },
      ];
    });
    moveTask.mutate(
      { taskId: String(active.id), move: placed.move, columns: outcome },
      { onError: (error) => toast.show(`Couldn't move “${titleOf(active.id)}”: ${messageOf(error)}`, "error") },
    );
  };

  return (
    <>
      <DndContext
        sensors={sensors}
        collisionDetection={closestCorners}
        onDragEnd={drop}
        accessibility={{
          announcements,
          screenReaderInstructions: {
            draggable:
              "To move a task, press space or enter. Arrow keys move it within and between columns; " +
              "space or enter drops it there, escape puts it back.",
          },
        }}
      >
        <div className="kanban" data-testid="kanban">
          {TASK_STATUSES.map((status, index) => (
            <BoardColumn key={status} status={status} tasks={board[status]} total={totals[index] ?? 0}>
              {board[status].map((task) => (
                <BoardCard key={task.id} task={task} labels={labels} canMove={canMove} onOpen={setOpened} />
              ))}
            </BoardColumn>
          ))}
        </div>
      </DndContext>
      <TaskDialog opened={opened} onOpen={setOpened} projectId={project.id} projectRole={project.role} />
    </>
  );
}

function BoardColumn({
  status,
  tasks,
  total,
  children,
}: {
  status: TaskStatus;
  tasks: readonly Task[];
  total: number;
  children: ReactNode;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: columnId(status) });
  const headingId = `column-${status}-heading`;
  return (
    <section className={`kanban-column status-${status}`} aria-labelledby={headingId} data-testid={`column-${status}`}>
      <h3 id={headingId}>
        {STATUS_LABELS[status]} <span className="column-count">{total}</span>
      </h3>
      <SortableContext items={tasks.map((task) => task.id)} strategy={verticalListSortingStrategy}>
        <ul ref={setNodeRef} className={isOver ? "kanban-list kanban-over" : "kanban-list"}>
          {children}
        </ul>
      </SortableContext>
      {total > tasks.length && (
        <p className="field-hint">
          The first {tasks.length} of {total}; the list view has them all.
        </p>
      )}
    </section>
  );
}

function BoardCard({
  task,
  labels,
  canMove,
  onOpen,
}: {
  task: Task;
  labels: readonly Label[];
  canMove: boolean;
  onOpen: (task: Task) => void;
}) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: task.id,
    disabled: !canMove,
  });
  const due = dueLabel(task.dueDate, task.status);
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      className={isDragging ? "kanban-card dragging" : "kanban-card"}
      data-testid="board-card"
      data-task-id={task.id}
    >
      {canMove && (
        <button
          type="button"
          ref={setActivatorNodeRef}
          className="drag-handle"
          {...attributes}
          {...listeners}
          aria-label={`Move ${task.title}`}
        >
          <span aria-hidden="true">⠿</span>
        </button>
      )}
      <div className="kanban-card-main">
        <h4 className="task-title">{task.title}</h4>
        <p className="task-meta">
          <span className={`badge priority-${task.priority}`}>{PRIORITY_LABELS[task.priority]}</span>
          {due && <span className={due.overdue ? "due overdue" : "due"}>{due.text}</span>}
          {task.assignee && <span className="task-assignee">{task.assignee.name}</span>}
          <LabelChips task={task} labels={labels} />
        </p>
      </div>
      <button
        type="button"
        className="button-secondary button-small"
        onClick={() => onOpen(task)}
        aria-label={`Open ${task.title}`}
      >
        Open
      </button>
    </li>
  );
}
