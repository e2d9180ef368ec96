import { useEffect, useRef } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";

import { useSession } from "../auth/session";
import { useLiveUpdates } from "../live/useLiveUpdates";
import { ProjectSidebar } from "../projects/ProjectSidebar";
import { messageOf } from "./forms";
import { ToastRegion, useToast } from "./toast";

/**
 * Sets the document title and moves focus to the page's heading, so a screen reader announces
 * the new page after client-side navigation, as it would after a full load.
 */
export function usePageTitle(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Taskyard`;
    ref.current?.focus();
  }, [title]);
  return ref;
}

export function Layout() {
  const { state, logout } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const user = state.status === "signed-in" ? state.user : null;
  useLiveUpdates(user !== null);

  const signOut = async () => {
    try {
      await logout();
      toast.show("Logged out");
    } catch (error) {
      toast.show(messageOf(error), "error");
    }
    void navigate("/login", { replace: true });
  };

  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="app-header">
        <div className="brand">
          <span aria-hidden="true" className="brand-mark">
            ✓
          </span>{" "}
          Taskyard
        </div>
        {user && (
          <nav aria-label="Main" className="main-nav">
            <NavLink to="/" end>
              My tasks
            </NavLink>
            <NavLink to="/assigned">Assigned to me</NavLink>
            {user.role === "admin" && (
              <>
                <NavLink to="/admin/tasks">All tasks</NavLink>
                <NavLink to="/admin/users">Users</NavLink>
                <NavLink to="/admin/operations">Operations</NavLink>
              </>
            )}
          </nav>
        )}
        {user && (
          <div className="account">
            <NavLink to="/account" className="account-name">
              <span className="visually-hidden">Account settings: </span>
              {user.name}
              {user.role === "admin" && <span className="badge role-admin">admin</span>}
            </NavLink>
            <button type="button" className="button-secondary" onClick={() => void signOut()}>
              Log out
            </button>
          </div>
        )}
      </header>
      <div className={user ? "app-body with-sidebar" : "app-body"}>
        {user && <ProjectSidebar />}
        <main id="main" tabIndex={-1}>
          <ToastRegion />
          <Outlet />
        </main>
      </div>
    </>
  );
}
