// Every call names its path as the OpenAPI document does; its parameters, body and answer are
// typed from the generated schema.ts, so a change to the API shows up here as a type error.
import { api, unwrap } from "./client";
import type {
  AdminTaskQuery,
  ApiTokenCreate,
  ExportRequest,
  GivenRole,
  LabelCreate,
  LoginInput,
  MeUpdate,
  MemberAdd,
  ProjectCreate,
  ProjectUpdate,
  RegisterInput,
  TaskCreate,
  TaskMove,
  TaskQuery,
  TaskUpdate,
  UserQuery,
  UserUpdate,
} from "./types";

const byId = (id: string) => ({ params: { path: { id } } });
const paging = (page: number, limit: number) => ({ query: { page, limit } });
const keyed = (key: string | undefined) => ({ header: key === undefined ? {} : { "Idempotency-Key": key } });
const solved = (challenge: string | undefined) => (challenge === undefined ? {} : { "X-Altcha": challenge });
/** If-Match for a task the person read at `version`: the server's ETags are "v<version>-…". */
const atVersion = (version: number | undefined) => ({
  header: version === undefined ? {} : { "If-Match": `"v${String(version)}"` },
});

export const authApi = {
  register: (body: RegisterInput, idempotencyKey?: string, challenge?: string) =>
    unwrap(
      api.anonymous.POST("/api/v1/auth/register", {
        body,
        params: { header: { ...keyed(idempotencyKey).header, ...solved(challenge) } },
      }),
    ),
  login: (body: LoginInput, challenge?: string) =>
    unwrap(api.anonymous.POST("/api/v1/auth/login", { body, params: { header: solved(challenge) } })),
  logout: () => unwrap(api.http.POST("/api/v1/auth/logout")),
  me: () => unwrap(api.http.GET("/api/v1/auth/me")),
  updateMe: (body: MeUpdate) => unwrap(api.http.PATCH("/api/v1/auth/me", { body })),
  tokens: (signal?: AbortSignal) => unwrap(api.http.GET("/api/v1/auth/tokens", { signal })),
  createToken: (body: ApiTokenCreate) => unwrap(api.http.POST("/api/v1/auth/tokens", { body })),
  revokeToken: (id: string) => unwrap(api.http.DELETE("/api/v1/auth/tokens/{id}", byId(id))),
};

export const eventsApi = {
  ticket: () => unwrap(api.http.POST("/api/v1/events/tickets")),
};

export const tasksApi = {
  list: (query: TaskQuery, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks", { params: { query }, signal })),
  listAll: (query: AdminTaskQuery, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks/admin/all", { params: { query }, signal })),
  stats: (projectId?: string, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks/stats", { params: { query: { projectId } }, signal })),
  create: (body: TaskCreate, idempotencyKey?: string) =>
    unwrap(api.http.POST("/api/v1/tasks", { body, params: keyed(idempotencyKey) })),
  /** With `version`, only if the task is still that version (else a 412 with the current task). */
  update: (id: string, body: TaskUpdate, version?: number) =>
    unwrap(api.http.PATCH("/api/v1/tasks/{id}", { params: { path: { id }, ...atVersion(version) }, body })),
  remove: (id: string) => unwrap(api.http.DELETE("/api/v1/tasks/{id}", byId(id))),
  /** Into a board column, between two of its tasks (neither: at the column's end). */
  move: (id: string, body: TaskMove) => unwrap(api.http.POST("/api/v1/tasks/{id}/move", { ...byId(id), body })),
  comments: (id: string, page: number, limit: number, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks/{id}/comments", { params: { path: { id }, ...paging(page, limit) }, signal })),
  comment: (id: string, body: string) =>
    unwrap(api.http.POST("/api/v1/tasks/{id}/comments", { ...byId(id), body: { body } })),
  removeComment: (id: string, commentId: string) =>
    unwrap(api.http.DELETE("/api/v1/tasks/{id}/comments/{commentId}", { params: { path: { id, commentId } } })),
  activity: (id: string, page: number, limit: number, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks/{id}/activity", { params: { path: { id }, ...paging(page, limit) }, signal })),
};

const inProject = (id: string, userId: string) => ({ params: { path: { id, userId } } });

export const projectsApi = {
  list: (page: number, limit: number, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/projects", { params: paging(page, limit), signal })),
  get: (id: string, signal?: AbortSignal) => unwrap(api.http.GET("/api/v1/projects/{id}", { ...byId(id), signal })),
  create: (body: ProjectCreate) => unwrap(api.http.POST("/api/v1/projects", { body })),
  update: (id: string, body: ProjectUpdate) => unwrap(api.http.PATCH("/api/v1/projects/{id}", { ...byId(id), body })),
  remove: (id: string) => unwrap(api.http.DELETE("/api/v1/projects/{id}", byId(id))),
  members: (id: string, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/projects/{id}/members", { ...byId(id), signal })),
  addMember: (id: string, body: MemberAdd) =>
    unwrap(api.http.POST("/api/v1/projects/{id}/members", { ...byId(id), body })),
  changeRole: (id: string, userId: string, role: GivenRole) =>
    unwrap(api.http.PATCH("/api/v1/projects/{id}/members/{userId}", { ...inProject(id, userId), body: { role } })),
  removeMember: (id: string, userId: string) =>
    unwrap(api.http.DELETE("/api/v1/projects/{id}/members/{userId}", inProject(id, userId))),
  transfer: (id: string, userId: string) =>
    unwrap(api.http.POST("/api/v1/projects/{id}/transfer", { ...byId(id), body: { userId } })),
  labels: (id: string, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/projects/{id}/labels", { ...byId(id), signal })),
  createLabel: (id: string, body: LabelCreate) =>
    unwrap(api.http.POST("/api/v1/projects/{id}/labels", { ...byId(id), body })),
  removeLabel: (id: string, labelId: string) =>
    unwrap(api.http.DELETE("/api/v1/projects/{id}/labels/{labelId}", { params: { path: { id, labelId } } })),
};

export const exportsApi = {
  request: (body: ExportRequest, idempotencyKey?: string) =>
    unwrap(api.http.POST("/api/v1/exports", { body, params: keyed(idempotencyKey) })),
  get: (id: string, signal?: AbortSignal) => unwrap(api.http.GET("/api/v1/exports/{id}", { ...byId(id), signal })),
  /** The file the API streams, with the name the server gave it. */
  download: async (id: string) => {
    const pending = api.http.GET("/api/v1/exports/{id}/download", { ...byId(id), parseAs: "blob" });
    const blob = await unwrap(pending);
    const disposition = (await pending).response.headers.get("Content-Disposition") ?? "";
    return { blob, filename: /filename="([^"]+)"/.exec(disposition)?.[1] ?? "download" };
  },
};

export const usersApi = {
  list: (query: UserQuery, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/users", { params: { query }, signal })),
  update: (id: string, body: UserUpdate) => unwrap(api.http.PATCH("/api/v1/users/{id}", { ...byId(id), body })),
};

export const opsApi = {
  /** Every instance's figures from Prometheus; `source: "instance"` when none is configured. */
  cluster: async (signal?: AbortSignal) => (await unwrap(api.http.GET("/api/v1/ops/cluster", { signal }))).data,
};
