import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { authApi, projectsApi, tasksApi, usersApi } from "./endpoints";
import { useSubmissionKeys } from "./idempotency";
import type {
  AdminTaskQuery,
  ApiTokenCreate,
  GivenRole,
  LabelCreate,
  MemberAdd,
  ProjectCreate,
  ProjectUpdate,
  TaskCreate,
  TaskMove,
  TaskPage,
  TaskQuery,
  TaskUpdate,
  UserPage,
  UserQuery,
  UserUpdate,
} from "./types";

export const queryKeys = {
  tasks: ["tasks"] as const,
  taskList: (query: TaskQuery) => ["tasks", "list", query] as const,
  allTasks: (query: AdminTaskQuery) => ["tasks", "all", query] as const,
  stats: (projectId?: string) => ["tasks", "stats", projectId ?? "own"] as const,
  // A task's comments and activity change with every write to it, so they live under "tasks".
  comments: (taskId: string) => ["tasks", "comments", taskId] as const,
  activity: (taskId: string) => ["tasks", "activity", taskId] as const,
  projects: ["projects"] as const,
  projectList: ["projects", "list"] as const,
  project: (id: string) => ["projects", "one", id] as const,
  members: (id: string) => ["projects", "members", id] as const,
  labels: (id: string) => ["projects", "labels", id] as const,
  apiTokens: ["apiTokens"] as const,
  users: ["users"] as const,
  userList: (query: UserQuery) => ["users", "list", query] as const,
};

export function useTaskList(query: TaskQuery, enabled = true) {
  return useQuery({
    queryKey: queryKeys.taskList(query),
    queryFn: ({ signal }) => tasksApi.list(query, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useAllTasks(query: AdminTaskQuery, enabled = true) {
  return useQuery({
    queryKey: queryKeys.allTasks(query),
    queryFn: ({ signal }) => tasksApi.listAll(query, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useTaskStats(projectId?: string) {
  return useQuery({
    queryKey: queryKeys.stats(projectId),
    queryFn: async ({ signal }) => (await tasksApi.stats(projectId, signal)).data,
  });
}

/** The newest first; the dialog shows this many. */
export const DISCUSSION_PAGE = 50;

export function useComments(taskId: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.comments(taskId),
    queryFn: ({ signal }) => tasksApi.comments(taskId, 1, DISCUSSION_PAGE, signal),
    enabled,
  });
}

export function useActivity(taskId: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.activity(taskId),
    queryFn: ({ signal }) => tasksApi.activity(taskId, 1, DISCUSSION_PAGE, signal),
    enabled,
  });
}

/** The sidebar lists this many projects, the personal one first. */
export const SIDEBAR_PROJECTS = 100;

export function useProjects(enabled = true) {
  return useQuery({
    queryKey: queryKeys.projectList,
    queryFn: ({ signal }) => projectsApi.list(1, SIDEBAR_PROJECTS, signal),
    enabled,
  });
}

export function useProject(id: string) {
  return useQuery({
    queryKey: queryKeys.project(id),
    queryFn: async ({ signal }) => (await projectsApi.get(id, signal)).data,
    // A 404 (not a member, or no longer one) is an answer, not a hiccup to retry.
    retry: false,
  });
}

export function useMembers(projectId: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.members(projectId),
    queryFn: async ({ signal }) => (await projectsApi.members(projectId, signal)).data,
    enabled,
  });
}

export function useLabels(projectId: string | undefined) {
  return useQuery({
    queryKey: queryKeys.labels(projectId ?? ""),
    queryFn: async ({ signal }) => (await projectsApi.labels(projectId ?? "", signal)).data,
    enabled: projectId !== undefined,
    retry: false,
  });
}

export function useUserList(query: UserQuery) {
  return useQuery({
    queryKey: queryKeys.userList(query),
    queryFn: ({ signal }) => usersApi.list(query, signal),
    placeholderData: keepPreviousData,
  });
}

/** Any task write can change every list, the stats and the admin views. */
function useInvalidateTasks() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: queryKeys.tasks });
}

/** Each submission carries an Idempotency-Key: a retry can't create the task twice. */
export function useCreateTask() {
  const invalidate = useInvalidateTasks();
  const keys = useSubmissionKeys();
  return useMutation({
    mutationFn: (input: TaskCreate) => tasksApi.create(input, keys.keyFor(input)),
    onSuccess: () => {
      keys.done();
      return invalidate();
    },
  });
}

/** `version`: the one the person edited (If-Match); a 412 then carries the task as it is now. */
export function useUpdateTask() {
  const invalidate = useInvalidateTasks();
  return useMutation({
    mutationFn: ({ id, changes, version }: { id: string; changes: TaskUpdate; version?: number }) =>
      tasksApi.update(id, changes, version),
    // A refusal too: a 412 means the lists show a version that is gone.
    onSettled: invalidate,
  });
}

/** A comment changes the task's discussion and its activity. */
export function useAddComment(taskId: string) {
  const invalidate = useInvalidateTasks();
  return useMutation({ mutationFn: (body: string) => tasksApi.comment(taskId, body), onSuccess: invalidate });
}

export function useDeleteComment(taskId: string) {
  const invalidate = useInvalidateTasks();
  return useMutation({
    mutationFn: (commentId: string) => tasksApi.removeComment(taskId, commentId),
    onSuccess: invalidate,
  });
}

/**
 * A board move: every column the move touches shows its outcome at once (`columns`, the lists as
 * they will be), and goes back to what it was if the server refuses.
 */
export interface BoardMove {
  taskId: string;
  move: TaskMove;
  columns: [readonly unknown[], TaskPage][];
}

export function useMoveTask() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, move }: BoardMove) => tasksApi.move(taskId, move),
    onMutate: async ({ columns }) => {
      await client.cancelQueries({ queryKey: queryKeys.tasks });
      const before = columns.map(([key]) => [key, client.getQueryData<TaskPage>(key)] as const);
      for (const [key, page] of columns) client.setQueryData(key, page);
      return { before };
    },
    onError: (_error, _move, context) => {
      for (const [key, page] of context?.before ?? []) client.setQueryData(key, page);
      // A refusal may mean the person's role changed: the page should offer only what works.
      void client.invalidateQueries({ queryKey: queryKeys.projects });
    },
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.tasks }),
  });
}

export function useDeleteTask() {
  const invalidate = useInvalidateTasks();
  return useMutation({ mutationFn: (id: string) => tasksApi.remove(id), onSuccess: invalidate });
}

/** Shows the change at once; a refusal (the last-admin guard, say) puts the old value back. */
export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: string; changes: UserUpdate }) => usersApi.update(id, changes),
    onMutate: async ({ id, changes }) => {
      await client.cancelQueries({ queryKey: queryKeys.users });
      const before = client.getQueriesData<UserPage>({ queryKey: queryKeys.users });
      client.setQueriesData<UserPage>({ queryKey: queryKeys.users }, (page) =>
        page === undefined
          ? page
          : {
              ...page,
              data: page.data.map((user) =>
                user.id === id
                  ? {
                      ...user,
                      ...(changes.role ? { role: changes.role } : {}),
                      ...(changes.isActive != null ? { isActive: changes.isActive } : {}),
                    }
                  : user,
              ),
            },
      );
      return { before };
    },
    onError: (_error, _variables, context) => {
      for (const [key, page] of context?.before ?? []) client.setQueryData(key, page);
    },
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.users }),
  });
}

/** A change to a project's membership or settings: its pages, the sidebar and its task lists. */
function useInvalidateProjects() {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: queryKeys.projects }),
      client.invalidateQueries({ queryKey: queryKeys.tasks }),
    ]);
}

export function useCreateProject() {
  const invalidate = useInvalidateProjects();
  return useMutation({ mutationFn: (input: ProjectCreate) => projectsApi.create(input), onSuccess: invalidate });
}

export function useUpdateProject(projectId: string) {
  const invalidate = useInvalidateProjects();
  return useMutation({
    mutationFn: (changes: ProjectUpdate) => projectsApi.update(projectId, changes),
    onSuccess: invalidate,
  });
}

/**
 * Leaving a project, or deleting it: `gone` runs first (it takes the person off the project's
 * page, which would otherwise re-read the project and find it missing), then the lists refresh.
 */
function useGoneFromProject<Answer>(action: () => Promise<Answer>, gone: (answer: Answer) => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: action,
    onSuccess: async (answer) => {
      gone(answer);
      await client.invalidateQueries({ queryKey: queryKeys.projectList });
      await client.invalidateQueries({ queryKey: queryKeys.tasks });
    },
  });
}

export function useDeleteProject(projectId: string, gone: (answer: { message: string }) => void) {
  return useGoneFromProject(() => projectsApi.remove(projectId), gone);
}

export function useLeaveProject(projectId: string, me: string, gone: (answer: { message: string }) => void) {
  return useGoneFromProject(() => projectsApi.removeMember(projectId, me), gone);
}

/** Every membership change: add, change a role, remove, leave, hand ownership over. */
export function useMembership(projectId: string) {
  const invalidate = useInvalidateProjects();
  const settled = { onSettled: invalidate };
  return {
    add: useMutation({ mutationFn: (input: MemberAdd) => projectsApi.addMember(projectId, input), ...settled }),
    changeRole: useMutation({
      mutationFn: ({ userId, role }: { userId: string; role: GivenRole }) =>
        projectsApi.changeRole(projectId, userId, role),
      ...settled,
    }),
    remove: useMutation({ mutationFn: (userId: string) => projectsApi.removeMember(projectId, userId), ...settled }),
    transfer: useMutation({ mutationFn: (userId: string) => projectsApi.transfer(projectId, userId), ...settled }),
  };
}

export function useLabelChanges(projectId: string) {
  const client = useQueryClient();
  // A deleted label leaves every task that carried it.
  const invalidate = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: queryKeys.labels(projectId) }),
      client.invalidateQueries({ queryKey: queryKeys.tasks }),
    ]);
  return {
    create: useMutation({
      mutationFn: (input: LabelCreate) => projectsApi.createLabel(projectId, input),
      onSuccess: invalidate,
    }),
    remove: useMutation({
      mutationFn: (labelId: string) => projectsApi.removeLabel(projectId, labelId),
      onSuccess: invalidate,
    }),
  };
}

export function useApiTokens() {
  return useQuery({
    queryKey: queryKeys.apiTokens,
    queryFn: async ({ signal }) => (await authApi.tokens(signal)).data,
  });
}

export function useApiTokenChanges() {
  const client = useQueryClient();
  const invalidate = () => client.invalidateQueries({ queryKey: queryKeys.apiTokens });
  return {
    create: useMutation({ mutationFn: (input: ApiTokenCreate) => authApi.createToken(input), onSuccess: invalidate }),
    revoke: useMutation({ mutationFn: (id: string) => authApi.revokeToken(id), onSuccess: invalidate }),
  };
}
