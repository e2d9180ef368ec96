import { useCallback, useState } from "react";
import { useSearchParams } from "react-router";

import { ApiError } from "../api/client";
import { useAllTasks, useCreateTask, useDeleteTask, useTaskList, useUpdateTask, useUserList } from "../api/queries";
import {
  TASK_PRIORITIES,
  TASK_STATUSES,
  type Task,
  type TaskPriority,
  type TaskSort,
  type TaskStatus,
} from "../api/types";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { messageOf } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { Pagination } from "../ui/Pagination";
import { useToast } from "../ui/toast";
import { ExportControl } from "./ExportControl";
import { TaskCard } from "./TaskCard";
import { SORT_LABELS, TaskFilters, type TaskFilterValues } from "./TaskFilters";
import { TaskConflict } from "./TaskConflict";
import { TaskForm } from "./TaskForm";
import { EMPTY_TASK, formValuesOf, toCreate, toUpdate, type TaskFormValues } from "./taskSchema";

export const PAGE_SIZE = 10;

/** own: the caller's tasks; assigned: tasks others gave the caller; all: every task (admins). */
export type BoardMode = "own" | "assigned" | "all";

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

function readFilters(params: URLSearchParams): TaskFilterValues & { page: number; owner: string } {
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return {
    status: oneOf(params.get("status"), TASK_STATUSES) ?? "",
    priority: oneOf(params.get("priority"), TASK_PRIORITIES) ?? "",
    search: params.get("search") ?? "",
    sort: oneOf(params.get("sort"), Object.keys(SORT_LABELS) as TaskSort[]) ?? "-createdAt",
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    owner: params.get("owner") ?? "",
  };
}

export function TaskBoard({ mode }: { mode: BoardMode }) {
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  const toast = useToast();
  const [editing, setEditing] = useState<Task | "new" | null>(null);
  const [deleting, setDeleting] = useState<Task | null>(null);

  const criteria = {
    limit: PAGE_SIZE,
    status: (filters.status || undefined) as TaskStatus | undefined,
    priority: (filters.priority || undefined) as TaskPriority | undefined,
    search: filters.search || undefined,
    sort: filters.sort,
  };
  // Next follows the API's cursor, so page 500 costs what page 1 does; a page reached another
  // way (a reload, Prev past what was walked) falls back to its number.
  const [cursors, setCursors] = useState<Record<string, string>>({});
  const cursorKey = (page: number) => `${JSON.stringify({ mode, owner: filters.owner, ...criteria })}#${page}`;
  const cursor = cursors[cursorKey(filters.page)];
  const query = cursor === undefined ? { ...criteria, page: filters.page } : { ...criteria, cursor };
  const ownOrAssigned = useTaskList({ ...query, scope: mode === "assigned" ? "assigned" : "own" }, mode !== "all");
  const everyone = useAllTasks({ ...query, createdBy: filters.owner || undefined }, mode === "all");
  const list = mode === "all" ? everyone : ownOrAssigned;

  const createTask = useCreateTask();
  const updateTask = useUpdateTask();
  const deleteTask = useDeleteTask();

  const update = useCallback(
    (changes: Partial<TaskFilterValues & { page: number; owner: string }>) => {
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

  // An edit that met a newer version: the person's values, and the task as it is now.
  const [conflict, setConflict] = useState<{ mine: TaskFormValues; current: Task } | null>(null);

  /** Sends what the person changed from `opened`, only if the task is still `version`. */
  const sendEdit = async (opened: Task, values: TaskFormValues, version: number) => {
    const changes = toUpdate(opened, values);
    if (Object.keys(changes).length > 0) {
      try {
        const answer = await updateTask.mutateAsync({ id: opened.id, changes, version });
        toast.show(answer.message);
      } catch (error) {
        if (error instanceof ApiError && error.status === 412 && error.data) {
          setConflict({ mine: values, current: error.data as Task });
          return;
        }
        throw error;
      }
    }
    setConflict(null);
    setEditing(null);
  };

  const saveTask = async (values: TaskFormValues) => {
    if (editing === "new") {
      const answer = await createTask.mutateAsync(toCreate(values));
      toast.show(answer.message);
      setEditing(null);
    } else if (editing !== null) {
      await sendEdit(editing, values, editing.version);
    }
  };

  const closeEditor = () => {
    setConflict(null);
    setEditing(null);
  };

  const changeStatus = (task: Task, status: TaskStatus) => {
    updateTask.mutate(
      { id: task.id, changes: { status } },
      {
        onSuccess: (answer) => toast.show(answer.message),
        onError: (error) => toast.show(messageOf(error), "error"),
      },
    );
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
  const filtered = Boolean(filters.status || filters.priority || filters.search || filters.owner);

  return (
    <section aria-labelledby="tasks-heading" className="board">
      <div className="board-header">
        <h2 id="tasks-heading">
          {mode === "assigned" ? "Tasks assigned to you" : mode === "all" ? "Every task" : "Your tasks"}
        </h2>
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
          {mode === "own" && (
            <button type="button" onClick={() => setEditing("new")}>
              + New task
            </button>
          )}
        </div>
      </div>
      <TaskFilters
        values={filters}
        onChange={update}
        extra={mode === "all" ? <OwnerFilter value={filters.owner} onChange={(owner) => update({ owner })} /> : null}
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
              : "No tasks yet. Create your first one with “New task”."}
        </p>
      ) : (
        <>
          <p className="list-summary" aria-live="polite">
            Showing {page.count} of {page.total} {page.total === 1 ? "task" : "tasks"}
          </p>
          <ul className="task-list" aria-busy={list.isFetching}>
            {page.data.map((task) => (
              <TaskCard
                key={task.id}
                task={task}
                showOwner={mode !== "own"}
                canEdit={mode !== "assigned"}
                statusBusy={updateTask.isPending && updateTask.variables.id === task.id}
                onStatus={changeStatus}
                onEdit={setEditing}
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
          busy={list.isFetching}
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
      <Dialog title={editing === "new" ? "New task" : "Edit task"} open={editing !== null} onClose={closeEditor}>
        {editing !== null && editing !== "new" && conflict !== null && (
          <TaskConflict
            before={editing}
            current={conflict.current}
            busy={updateTask.isPending}
            onKeepMine={() => {
              // Their other changes stay; the fields this person changed take this person's values.
              sendEdit(editing, conflict.mine, conflict.current.version).catch((error: unknown) => {
                toast.show(messageOf(error), "error");
              });
            }}
            onUseTheirs={() => {
              setEditing(conflict.current);
              setConflict(null);
            }}
          />
        )}
        {editing !== null && (
          <TaskForm
            key={editing === "new" ? "new" : `${editing.id}-${String(editing.version)}`}
            initial={editing === "new" ? EMPTY_TASK : formValuesOf(editing)}
            submitLabel={editing === "new" ? "Create task" : "Save changes"}
            onSubmit={saveTask}
            onCancel={closeEditor}
          />
        )}
      </Dialog>
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
