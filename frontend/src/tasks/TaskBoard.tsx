import { useCallback, useState } from "react";
import { useSearchParams } from "react-router";

import { ApiError } from "../api/client";
import { useAllTasks, useDeleteTask, useLabels, useTaskList, useUpdateTask, useUserList } from "../api/queries";
import {
  TASK_PRIORITIES,
  TASK_STATUSES,
  hasRole,
  type Label,
  type Project,
  type Task,
  type TaskPriority,
  type TaskSort,
  type TaskStatus,
} from "../api/types";
import { useCurrentUser } from "../auth/session";
import { ConfirmDialog } from "../ui/Dialog";
import { messageOf } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { Pagination } from "../ui/Pagination";
import { toastOutcome, useToast } from "../ui/toast";
import { ExportControl } from "./ExportControl";
import { taskRights } from "./rights";
import { TaskCard } from "./TaskCard";
import { TaskDialog, type Opened } from "./TaskDialog";
import { SORT_LABELS, TaskFilters, type TaskFilterValues } from "./TaskFilters";

export const PAGE_SIZE = 10;

/**
 * own: the caller's tasks; assigned: tasks others gave the caller; all: every task (admins);
 * project: a project's tasks, for its members.
 */
export type BoardMode = "own" | "assigned" | "all" | "project";

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

type BoardFilters = TaskFilterValues & { page: number; owner: string; label: string };

function readFilters(params: URLSearchParams): BoardFilters {
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return {
    status: oneOf(params.get("status"), TASK_STATUSES) ?? "",
    priority: oneOf(params.get("priority"), TASK_PRIORITIES) ?? "",
    search: params.get("search") ?? "",
    sort: oneOf(params.get("sort"), Object.keys(SORT_LABELS) as TaskSort[]) ?? "-createdAt",
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    owner: params.get("owner") ?? "",
    label: params.get("label") ?? "",
  };
}

const HEADINGS: Record<BoardMode, string> = {
  own: "Your tasks",
  assigned: "Tasks assigned to you",
  all: "Every task",
  project: "Tasks",
};

/** `project`: in project mode, the project, with the caller's role in it. */
export function TaskBoard({ mode, project }: { mode: BoardMode; project?: Project }) {
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  const toast = useToast();
  const me = useCurrentUser();
  const [opened, setOpened] = useState<Opened>(null);
  const [deleting, setDeleting] = useState<Task | null>(null);
  // A project's labels; elsewhere the person's own personal project's (it has their id).
  const labels = useLabels(mode === "all" ? undefined : (project?.id ?? me.id)).data ?? [];
  const canCreate = mode === "own" || (mode === "project" && hasRole(project?.role, "editor"));

  const criteria = {
    limit: PAGE_SIZE,
    status: (filters.status || undefined) as TaskStatus | undefined,
    priority: (filters.priority || undefined) as TaskPriority | undefined,
    search: filters.search || undefined,
    sort: filters.sort,
    ...(mode === "project" && filters.label ? { label: filters.label } : {}),
  };
  // Next follows the API's cursor, so page 500 costs what page 1 does; a page reached another
  // way (a reload, Prev past what was walked) falls back to its number.
  const [cursors, setCursors] = useState<Record<string, string>>({});
  const cursorKey = (page: number) => `${JSON.stringify({ mode, owner: filters.owner, ...criteria })}#${page}`;
  const cursor = cursors[cursorKey(filters.page)];
  const query = cursor === undefined ? { ...criteria, page: filters.page } : { ...criteria, cursor };
  const mine = useTaskList(
    mode === "project"
      ? { ...query, projectId: project?.id }
      : { ...query, scope: mode === "assigned" ? "assigned" : "own" },
    mode !== "all",
  );
  const everyone = useAllTasks({ ...query, createdBy: filters.owner || undefined }, mode === "all");
  const list = mode === "all" ? everyone : mine;

  const updateTask = useUpdateTask();
  const deleteTask = useDeleteTask();

  const update = useCallback(
    (changes: Partial<BoardFilters>) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes)) {
            if (value === "" || (key === "page" && value === 1)) next.delete(key);
            else next.set(key, String(value));
          }
          // A new filter starts again from the first page.
          if (!("page" in changes)) next.delete("page");
          return next;
        },
        { replace: !("page" in changes) },
      );
    },
    [setParams],
  );

  const changeStatus = (task: Task, status: TaskStatus) => {
    updateTask.mutate({ id: task.id, changes: { status } }, toastOutcome(toast));
  };

  const confirmDelete = () => {
    if (deleting === null) return;
    deleteTask.mutate(deleting.id, {
      onSuccess: (answer) => {
        toast.show(answer.message);
        setDeleting(null);
      },
      onError: (error) => {
        toast.show(messageOf(error), "error");
        setDeleting(null);
      },
    });
  };

  const page = list.data;
  const filtered = Boolean(filters.status || filters.priority || filters.search || filters.owner || filters.label);

  return (
    <section aria-labelledby="tasks-heading" className="board">
      <div className="board-header">
        <h2 id="tasks-heading">{HEADINGS[mode]}</h2>
        <div className="board-actions">
          {/* Exports know no owner filter, so an admin exports everything or picks no owner. */}
          {(mode === "own" || (mode === "all" && !filters.owner)) && (
            <ExportControl
              filters={{
                scope: mode === "all" ? "all" : "own",
                status: query.status ?? null,
                priority: query.priority ?? null,
                search: query.search ?? null,
              }}
            />
          )}
          {canCreate && (
            <button type="button" onClick={() => setOpened("new")}>
              + New task
            </button>
          )}
        </div>
      </div>
      <TaskFilters
        values={filters}
        onChange={update}
        extra={
          mode === "all" ? (
            <OwnerFilter value={filters.owner} onChange={(owner) => update({ owner })} />
          ) : mode === "project" && labels.length > 0 ? (
            <LabelFilter labels={labels} value={filters.label} onChange={(label) => update({ label })} />
          ) : null
        }
      />
      {list.isPending ? (
        <Loading>Loading tasks…</Loading>
      ) : list.isError ? (
        <Failed onRetry={() => void list.refetch()}>Couldn't load tasks: {messageOf(list.error)}</Failed>
      ) : page === undefined || page.data.length === 0 ? (
        <p className="state-message state-empty">
          {filtered
            ? "No tasks match these filters."
            : mode === "assigned"
              ? "Nobody has assigned you a task yet."
              : canCreate
                ? "No tasks yet. Create your first one with “New task”."
                : "No tasks here yet."}
        </p>
      ) : (
        <>
          <p className="list-summary" aria-live="polite">
            Showing {page.count} of {page.total} {page.total === 1 ? "task" : "tasks"}
          </p>
          {/* Busy (and dimmed) only while it shows another page's or filter's rows: a refetch
              after a live event leaves the list as it is, readable, until the new rows land. */}
          <ul className="task-list" aria-busy={list.isPlaceholderData}>
            {page.data.map((task) => (
              <TaskCard
                key={task.id}
                task={task}
                showOwner={mode !== "own"}
                rights={taskRights(task, me, project?.role)}
                labels={labels}
                statusBusy={updateTask.isPending && updateTask.variables.id === task.id}
                onStatus={changeStatus}
                onEdit={setOpened}
                onDelete={setDeleting}
              />
            ))}
          </ul>
        </>
      )}
      {page !== undefined && page.total > 0 && (
        <Pagination
          page={filters.page}
          pages={page.pages}
          busy={list.isPlaceholderData}
          onPage={(next) => {
            if (next === filters.page + 1 && page.nextCursor) {
              const nextCursor = page.nextCursor;
              setCursors((known) => ({ ...known, [cursorKey(next)]: nextCursor }));
            }
            update({ page: next });
          }}
          label="Task pages"
        />
      )}
      <TaskDialog opened={opened} onOpen={setOpened} projectId={project?.id} projectRole={project?.role} />
      <ConfirmDialog
        title="Delete task?"
        message={deleting ? <>“{deleting.title}” will be deleted for good.</> : null}
        confirmLabel="Delete"
        open={deleting !== null}
        busy={deleteTask.isPending}
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(null)}
      />
    </section>
  );
}

const OWNER_CHOICES = 100;

/** The first hundred people to pick from; anyone else arrives by the Users page's "Tasks" link. */
function OwnerFilter({ value, onChange }: { value: string; onChange: (owner: string) => void }) {
  const users = useUserList({ limit: OWNER_CHOICES, page: 1 });
  const listed = users.data?.data ?? [];
  return (
    <div className="field">
      <label htmlFor="filter-owner">Owner</label>
      <select id="filter-owner" value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Everyone</option>
        {value && !listed.some((user) => user.id === value) && <option value={value}>The chosen person</option>}
        {listed.map((user) => (
          <option key={user.id} value={user.id}>
            {user.name} ({user.email})
          </option>
        ))}
      </select>
      {users.error instanceof ApiError && <p className="field-error">{users.error.message}</p>}
    </div>
  );
}

function LabelFilter({
  labels,
  value,
  onChange,
}: {
  labels: readonly Label[];
  value: string;
  onChange: (label: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor="filter-label">Label</label>
      <select id="filter-label" value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Any label</option>
        {labels.map((label) => (
          <option key={label.id} value={label.id}>
            {label.name}
          </option>
        ))}
      </select>
    </div>
  );
}
