import { hasRole, type ProjectRole, type Task, type User } from "../api/types";

/** What a person may do with a task: the server's rules, so the page offers only what works. */
export interface TaskRights {
  /** Its fields, labels, project, board place; deleting it. */
  edit: boolean;
  /** Its status (an assignee may, even without `edit`). */
  status: boolean;
  comment: boolean;
  /** Delete anyone's comment on it. */
  moderate: boolean;
}

/**
 * The creator and account admins change everything, as before projects; in a shared project
 * editors and up do too; an assignee changes the status. `projectRole`: the person's role in the
 * task's project, when the page knows it.
 */
export function taskRights(task: Task, me: Pick<User, "id" | "role">, projectRole?: ProjectRole | null): TaskRights {
  const accountAdmin = me.role === "admin";
  const personal = task.projectId === task.createdBy.id;
  const edit = accountAdmin || task.createdBy.id === me.id || (!personal && hasRole(projectRole, "editor"));
  const status = edit || task.assignee?.id === me.id;
  const ownsProject = task.projectId === me.id;
  return { edit, status, comment: status, moderate: accountAdmin || ownsProject || hasRole(projectRole, "admin") };
}
