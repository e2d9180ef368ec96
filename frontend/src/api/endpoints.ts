import { api } from "./client";
import type {
  AdminTaskQuery,
  AuthPayload,
  Envelope,
  Export,
  ExportRequest,
  LoginInput,
  MeUpdate,
  RegisterInput,
  Task,
  TaskCreate,
  TaskPage,
  TaskQuery,
  TaskStats,
  TaskUpdate,
  User,
  UserPage,
  UserQuery,
  UserUpdate,
} from "./types";

/** A query string from the set values only; empty filters are left out. */
export function queryString(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const authApi = {
  register: (input: RegisterInput) =>
    api.request<Envelope<AuthPayload>>("/auth/register", { method: "POST", body: input, anonymous: true }),
  login: (input: LoginInput) =>
    api.request<Envelope<AuthPayload>>("/auth/login", { method: "POST", body: input, anonymous: true }),
  logout: () => api.request<{ message: string }>("/auth/logout", { method: "POST" }),
  me: () => api.request<Envelope<{ user: User }>>("/auth/me"),
  updateMe: (changes: MeUpdate) =>
    api.request<Envelope<{ user: User }>>("/auth/me", { method: "PATCH", body: changes }),
};

export const tasksApi = {
  list: (query: TaskQuery, signal?: AbortSignal) => api.request<TaskPage>(`/tasks${queryString(query)}`, { signal }),
  listAll: (query: AdminTaskQuery, signal?: AbortSignal) =>
    api.request<TaskPage>(`/tasks/admin/all${queryString(query)}`, { signal }),
  stats: (signal?: AbortSignal) => api.request<Envelope<TaskStats>>("/tasks/stats", { signal }),
  create: (input: TaskCreate) => api.request<Envelope<Task>>("/tasks", { method: "POST", body: input }),
  update: (id: string, changes: TaskUpdate) =>
    api.request<Envelope<Task>>(`/tasks/${encodeURIComponent(id)}`, { method: "PATCH", body: changes }),
  remove: (id: string) =>
    api.request<Envelope<Record<string, never>>>(`/tasks/${encodeURIComponent(id)}`, { method: "DELETE" }),
};

export const exportsApi = {
  request: (input: ExportRequest) => api.request<Envelope<Export>>("/exports", { method: "POST", body: input }),
  get: (id: string, signal?: AbortSignal) =>
    api.request<Envelope<Export>>(`/exports/${encodeURIComponent(id)}`, { signal }),
  download: (id: string) => api.download(`/exports/${encodeURIComponent(id)}/download`),
};

export const usersApi = {
  list: (query: UserQuery, signal?: AbortSignal) => api.request<UserPage>(`/users${queryString(query)}`, { signal }),
  update: (id: string, changes: UserUpdate) =>
    api.request<Envelope<User>>(`/users/${encodeURIComponent(id)}`, { method: "PATCH", body: changes }),
};
