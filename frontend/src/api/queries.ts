import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { tasksApi, usersApi } from "./endpoints";
import { useSubmissionKeys } from "./idempotency";
import type { AdminTaskQuery, TaskCreate, TaskQuery, TaskUpdate, UserPage, UserQuery, UserUpdate } from "./types";

export const queryKeys = {
  tasks: ["tasks"] as const,
  taskList: (query: TaskQuery) => ["tasks", "list", query] as const,
  allTasks: (query: AdminTaskQuery) => ["tasks", "all", query] as const,
  stats: ["tasks", "stats"] as const,
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

export function useTaskStats() {
  return useQuery({
    queryKey: queryKeys.stats,
    queryFn: async ({ signal }) => (await tasksApi.stats(signal)).data,
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
