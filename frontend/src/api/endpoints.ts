// Every call names its path as the OpenAPI document does; its parameters, body and answer are
// typed from the generated schema.ts, so a change to the API shows up here as a type error.
import { api, unwrap } from "./client";
import type {
  AdminTaskQuery,
  ExportRequest,
  LoginInput,
  MeUpdate,
  RegisterInput,
  TaskCreate,
  TaskQuery,
  TaskUpdate,
  UserQuery,
  UserUpdate,
} from "./types";

const byId = (id: string) => ({ params: { path: { id } } });
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
};

export const tasksApi = {
  list: (query: TaskQuery, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks", { params: { query }, signal })),
  listAll: (query: AdminTaskQuery, signal?: AbortSignal) =>
    unwrap(api.http.GET("/api/v1/tasks/admin/all", { params: { query }, signal })),
  stats: (signal?: AbortSignal) => unwrap(api.http.GET("/api/v1/tasks/stats", { signal })),
  create: (body: TaskCreate, idempotencyKey?: string) =>
    unwrap(api.http.POST("/api/v1/tasks", { body, params: keyed(idempotencyKey) })),
  /** With `version`, only if the task is still that version (else a 412 with the current task). */
  update: (id: string, body: TaskUpdate, version?: number) =>
    unwrap(api.http.PATCH("/api/v1/tasks/{id}", { params: { path: { id }, ...atVersion(version) }, body })),
  remove: (id: string) => unwrap(api.http.DELETE("/api/v1/tasks/{id}", byId(id))),
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
