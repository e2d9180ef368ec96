import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { useSession } from "./session";

function Loading() {
  return (
    <p role="status" className="state-message">
      Loading…
    </p>
  );
}

/** Signed-out visitors go to the login page, which brings them back here afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-out") {
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return children;
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const { state } = useSession();
  if (state.status === "signed-in" && state.user.role !== "admin") {
    return <Navigate to="/" replace />;
  }
  return <RequireAuth>{children}</RequireAuth>;
}

/** Login and register make no sense when already signed in. */
export function SignedOutOnly({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-in") {
    const from = (location.state as { from?: string } | null)?.from;
    return <Navigate to={from && from.startsWith("/") && !from.startsWith("//") ? from : "/"} replace />;
  }
  return children;
}
