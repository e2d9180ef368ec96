import { useState } from "react";

import { ApiError } from "../api/client";
import { useCreateTask, useLabels, useUpdateTask } from "../api/queries";
import { PRIORITY_LABELS, STATUS_LABELS, type ProjectRole, type Task } from "../api/types";
import { useCurrentUser } from "../auth/session";
import { Dialog } from "../ui/Dialog";
import { messageOf } from "../ui/forms";
import { useToast } from "../ui/toast";
import { dueLabel } from "./dueDate";
import { LabelChip } from "./LabelChip";
import { REPEAT_UNIT_LABELS } from "./options";
import { taskRights } from "./rights";
import { TaskConflict } from "./TaskConflict";
import { TaskDiscussion } from "./TaskDiscussion";
import { TaskForm } from "./TaskForm";
import { EMPTY_TASK, formValuesOf, toCreate, toUpdate, type TaskFormValues } from "./taskSchema";

export type Opened = Task | "new" | null;

interface TaskDialogProps {
  opened: Opened;
  onOpen: (task: Opened) => void;
  /** Where a new task goes; left out, the person's personal project. */
  projectId?: string;
  /** The person's role in that project, when the page knows it. */
  projectRole?: ProjectRole | null;
}

/**
 * A new task's form; an existing task's form (or, without the right to change it, what it says),
 * then its comments and activity.
 */
export function TaskDialog({ opened, onOpen, projectId, projectRole }: TaskDialogProps) {
  const me = useCurrentUser();
  const toast = useToast();
  const createTask = useCreateTask();
  const updateTask = useUpdateTask();
  const task = opened === "new" ? null : opened;
  // The person's own personal project has their id.
  const labels = useLabels(opened === null ? undefined : (task?.projectId ?? projectId ?? me.id));
  const projectLabels = labels.data ?? [];
  const rights = task === null ? null : taskRights(task, me, projectRole);
  // An edit that met a newer version: the person's values, and the task as it is now.
  const [conflict, setConflict] = useState<{ mine: TaskFormValues; current: Task } | null>(null);

  const close = () => {
    setConflict(null);
    onOpen(null);
  };

  /** Sends what the person changed from `before`, only if the task is still `version`. */
  const sendEdit = async (before: Task, values: TaskFormValues, version: number) => {
    const changes = toUpdate(before, values);
    if (Object.keys(changes).length > 0) {
      try {
        const answer = await updateTask.mutateAsync({ id: before.id, changes, version });
        toast.show(answer.message);
      } catch (error) {
        if (error instanceof ApiError && error.status === 412 && error.data) {
          setConflict({ mine: values, current: error.data as Task });
          return;
        }
        throw error;
      }
    }
    close();
  };

  const save = async (values: TaskFormValues) => {
    if (task === null) {
      const answer = await createTask.mutateAsync(toCreate(values, projectId));
      toast.show(answer.message);
      close();
    } else {
      await sendEdit(task, values, task.version);
    }
  };

  const title = task === null ? "New task" : rights?.edit ? "Edit task" : "Task details";
  return (
    <Dialog title={title} open={opened !== null} onClose={close}>
      {task !== null && conflict !== null && (
        <TaskConflict
          before={task}
          current={conflict.current}
          busy={updateTask.isPending}
          onKeepMine={() => {
            // Their other changes stay; the fields this person changed take this person's values.
            sendEdit(task, conflict.mine, conflict.current.version).catch((error: unknown) => {
              toast.show(messageOf(error), "error");
            });
          }}
          onUseTheirs={() => {
            onOpen(conflict.current);
            setConflict(null);
          }}
        />
      )}
      {(task === null || rights?.edit) && (
        <TaskForm
          key={task === null ? "new" : `${task.id}-${String(task.version)}`}
          initial={task === null ? EMPTY_TASK : formValuesOf(task)}
          labels={projectLabels}
          submitLabel={task === null ? "Create task" : "Save changes"}
          onSubmit={save}
          onCancel={close}
        />
      )}
      {task !== null && !rights?.edit && <TaskSummary task={task} labels={projectLabels} />}
      {task !== null && rights !== null && (
        <TaskDiscussion
          taskId={task.id}
          me={me.id}
          canComment={rights.comment}
          canModerate={rights.moderate}
          labels={projectLabels}
        />
      )}
    </Dialog>
  );
}

/** What a task says, for someone who may read but not change it. */
function TaskSummary({ task, labels }: { task: Task; labels: readonly { id: string; name: string; color: string }[] }) {
  const due = dueLabel(task.dueDate, task.status);
  return (
    <div className="task-summary">
      <p className="task-summary-title">{task.title}</p>
      {task.description && <p className="task-description">{task.description}</p>}
      <dl className="task-facts">
        <dt>Status</dt>
        <dd>{STATUS_LABELS[task.status]}</dd>
        <dt>Priority</dt>
        <dd>{PRIORITY_LABELS[task.priority]}</dd>
        {due && (
          <>
            <dt>Due</dt>
            <dd>{due.text}</dd>
          </>
        )}
        {task.assignee && (
          <>
            <dt>Assigned to</dt>
            <dd>{task.assignee.name}</dd>
          </>
        )}
        {task.repeat && (
          <>
            <dt>Repeats</dt>
            <dd>
              Every {task.repeat.every} {REPEAT_UNIT_LABELS[task.repeat.unit].toLowerCase()}
            </dd>
          </>
        )}
        {task.labels.length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>
              {labels
                .filter((label) => task.labels.includes(label.id))
                .map((label) => (
                  <LabelChip key={label.id} label={label} />
                ))}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}
