import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { Loading } from "../ui/Page";
import { returnPath } from "./returnTo";
import { useSession } from "./session";

/** Signed-out visitors go to the login page, which brings them back here afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <Loading>Loading…</Loading>;
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
  if (state.status === "loading") return <Loading>Loading…</Loading>;
  if (state.status === "signed-in") {
    return <Navigate to={returnPath(location.state)} replace />;
  }
  return children;
}
