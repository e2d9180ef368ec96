// Names for the server's schemas. schema.ts is generated from the OpenAPI document.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

export type Task = Schemas["TaskOut"];
export type TaskStatus = Schemas["TaskStatus"];
export type TaskPriority = Schemas["TaskPriority"];
export type TaskCreate = Schemas["TaskCreate"];
export type TaskUpdate = Schemas["TaskUpdate"];
export type TaskStats = Schemas["TaskStats"];
export type User = Schemas["UserOut"];
export type UserRef = Schemas["UserRef"];
export type UserUpdate = Schemas["UserUpdate"];
export type Role = Schemas["Role"];
export type RegisterInput = Schemas["RegisterInput"];
export type LoginInput = Schemas["LoginInput"];
export type AuthPayload = Schemas["AuthPayload"];
export type TaskPage = Schemas["CursorListEnvelope_TaskOut_"];
export type Export = Schemas["ExportOut"];
export type ExportRequest = Schemas["ExportRequest"];
export type ExportFormat = Schemas["ExportFormat"];
export type MeUpdate = Schemas["MeUpdate"];
export type UserPage = Schemas["ListEnvelope_UserOut_"];
export type ClusterOverview = Schemas["ClusterOverview"];
export type InstanceState = Schemas["InstanceState"];
export type Project = Schemas["ProjectOut"];
export type ProjectCreate = Schemas["ProjectCreate"];
export type ProjectUpdate = Schemas["ProjectUpdate"];
export type ProjectRole = NonNullable<Project["role"]>;
export type Member = Schemas["MemberOut"];
export type MemberAdd = Schemas["MemberAdd"];
export type GivenRole = Schemas["MemberUpdate"]["role"];
export type Label = Schemas["LabelOut"];
export type LabelCreate = Schemas["LabelCreate"];
export type Comment = Schemas["CommentOut"];
export type Activity = Schemas["ActivityOut"];
export type RepeatRule = Schemas["RepeatRule"];
export type RepeatUnit = RepeatRule["unit"];
export type TaskMove = Schemas["TaskMove"];
export type ApiToken = Schemas["TokenOut"];
export type ApiTokenCreate = Schemas["TokenCreate"];
export type TokenScope = Schemas["TokenScope"];

type QueryOf<Operation> = Operation extends { parameters: { query?: infer Query } } ? NonNullable<Query> : never;
export type TaskQuery = QueryOf<operations["list_tasks_api_v1_tasks_get"]>;
export type AdminTaskQuery = QueryOf<operations["list_all_tasks_api_v1_tasks_admin_all_get"]>;
export type UserQuery = QueryOf<operations["list_users_api_v1_users_get"]>;
export type TaskSort = NonNullable<TaskQuery["sort"]>;
export type TaskScope = NonNullable<TaskQuery["scope"]>;

export const TASK_STATUSES = ["pending", "in-progress", "completed"] as const satisfies readonly TaskStatus[];
export const TASK_PRIORITIES = ["low", "medium", "high"] as const satisfies readonly TaskPriority[];

/** Each role includes the ones before it. */
export const PROJECT_ROLES = ["viewer", "editor", "admin", "owner"] as const satisfies readonly ProjectRole[];
export const GIVEN_ROLES = ["viewer", "editor", "admin"] as const satisfies readonly GivenRole[];
export const TOKEN_SCOPES = [
  "tasks:read",
  "tasks:write",
  "projects:read",
  "projects:write",
] as const satisfies readonly TokenScope[];

export const REPEAT_UNITS = ["day", "week", "month"] as const satisfies readonly RepeatUnit[];

/** Whether `role` (null: not a member) includes `needed`. */
export function hasRole(role: ProjectRole | null | undefined, needed: ProjectRole): boolean {
  return role != null && PROJECT_ROLES.indexOf(role) >= PROJECT_ROLES.indexOf(needed);
}

export const ROLE_LABELS: Record<ProjectRole, string> = {
  viewer: "Viewer",
  editor: "Editor",
  admin: "Admin",
  owner: "Owner",
};

export const STATUS_LABELS: Record<TaskStatus, string> = {
  pending: "Pending",
  "in-progress": "In progress",
  completed: "Completed",
};
export const PRIORITY_LABELS: Record<TaskPriority, string> = {
  low: "Low",
  medium: "Medium",
  high: "High",
};
