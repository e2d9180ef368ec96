import { useState } from "react";
import { Link } from "react-router";

import { useUpdateUser, useUserList } from "../api/queries";
import type { Role, User, UserUpdate } from "../api/types";
import { useCurrentUser } from "../auth/session";
import { messageOf } from "../ui/forms";
import { Failed, Loading, Page } from "../ui/Page";
import { Pagination } from "../ui/Pagination";
import { useToast } from "../ui/toast";

const USERS_PER_PAGE = 20;

export function UsersPage() {
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState("");
  const users = useUserList({ page, limit: USERS_PER_PAGE, search: search || undefined });
  const updateUser = useUpdateUser();
  const toast = useToast();
  const me = useCurrentUser();

  const change = (user: User, changes: UserUpdate, done: string) => {
    updateUser.mutate(
      { id: user.id, changes },
      {
        onSuccess: () => toast.show(done),
        // The last-admin guard answers 409 with the reason; show it as it is.
        onError: (error) => toast.show(messageOf(error), "error"),
      },
    );
  };

  return (
    <Page
      title="Users"
      intro="Change roles and deactivate accounts. Deactivating signs the person out everywhere at once. The last active admin can't be demoted or deactivated."
    >
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="user-search">Search users</label>
          <input
            id="user-search"
            type="search"
            value={search}
            placeholder="Name or email"
            onChange={(event) => {
              setSearch(event.target.value);
              setPage(1);
            }}
          />
        </div>
      </div>
      {users.isPending ? (
        <Loading>Loading users…</Loading>
      ) : users.isError ? (
        <Failed onRetry={() => void users.refetch()}>Couldn't load users: {messageOf(users.error)}</Failed>
      ) : users.data.data.length === 0 ? (
        <p className="state-message state-empty">No users match.</p>
      ) : (
        <div className="table-wrap">
          <table className="users-table">
            <caption className="visually-hidden">Users, {users.data.total} in all</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Active</th>
                <th scope="col">Last login</th>
              </tr>
            </thead>
            <tbody>
              {users.data.data.map((user) => (
                <tr key={user.id} data-testid="user-row" data-email={user.email}>
                  <td data-label="Name">
                    {user.name}
                    {user.id === me.id && <span className="badge">you</span>}
                  </td>
                  <td data-label="Email">
                    {user.email}{" "}
                    <Link to={`/admin/tasks?owner=${encodeURIComponent(user.id)}`} className="row-link">
                      Tasks<span className="visually-hidden"> of {user.email}</span>
                    </Link>
                  </td>
                  <td data-label="Role">
                    <label className="visually-hidden" htmlFor={`role-${user.id}`}>
                      Role of {user.email}
                    </label>
                    <select
                      id={`role-${user.id}`}
                      value={user.role}
                      disabled={updateUser.isPending}
                      onChange={(event) => {
                        const role = event.target.value as Role;
                        change(user, { role }, `${user.name} is now ${role === "admin" ? "an admin" : "a user"}`);
                      }}
                    >
                      <option value="user">User</option>
                      <option value="admin">Admin</option>
                    </select>
                  </td>
                  <td data-label="Active">
                    <label className="switch">
                      <input
                        type="checkbox"
                        checked={user.isActive}
                        disabled={updateUser.isPending}
                        aria-label={`${user.email} is active`}
                        onChange={(event) => {
                          const isActive = event.target.checked;
                          change(user, { isActive }, `${user.name} ${isActive ? "reactivated" : "deactivated"}`);
                        }}
                      />
                      <span>{user.isActive ? "Active" : "Deactivated"}</span>
                    </label>
                  </td>
                  <td data-label="Last login">
                    {user.lastLogin ? new Date(user.lastLogin).toLocaleString() : "Never"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {users.data && users.data.total > 0 && (
        <Pagination page={page} pages={users.data.pages} onPage={setPage} busy={users.isFetching} label="User pages" />
      )}
    </Page>
  );
}
