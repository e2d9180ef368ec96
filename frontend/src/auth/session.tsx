import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { api } from "../api/client";
import { authApi } from "../api/endpoints";
import type { AuthPayload, LoginInput, RegisterInput, User } from "../api/types";
import { useToast } from "../ui/toast";

export type SessionState =
  { status: "loading" } | { status: "signed-out"; expired: boolean } | { status: "signed-in"; user: User };

interface Session {
  state: SessionState;
  /** `challenge`: a solved check, once the server asks for one after failed sign-ins. */
  login: (input: LoginInput, challenge?: string) => Promise<User>;
  /** `idempotencyKey`: the same for a retry of one submission, so it makes one account. */
  register: (input: RegisterInput, idempotencyKey?: string, challenge?: string) => Promise<User>;
  logout: () => Promise<void>;
  /** After the person changed their own profile. */
  replaceUser: (user: User) => void;
}

const SessionContext = createContext<Session | null>(null);

// Not a credential: only whether a refresh cookie is worth trying on load, so a first visit
// doesn't start with a refused request.
const SIGNED_IN_HINT = "taskyard.signedIn";

function rememberSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN_HINT, "1");
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // Storage can be off (private modes); then every load simply tries the cookie.
  }
}

function probablySignedIn(): boolean {
  try {
    return localStorage.getItem(SIGNED_IN_HINT) !== null;
  } catch {
    return true;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: "loading" });
  const queryClient = useQueryClient();
  const toast = useToast();

  const signOut = useCallback(
    (expired: boolean) => {
      api.setToken(null);
      rememberSignedIn(false);
      queryClient.clear();
      setState({ status: "signed-out", expired });
    },
    [queryClient],
  );

  useEffect(() => {
    api.onSessionExpired = () => {
      toast.show("Your session has ended. Please log in again.", "info");
      signOut(true);
    };
    const run = { cancelled: false };
    // A reload keeps the login: the HttpOnly refresh cookie buys a new access token.
    void (async () => {
      let next: SessionState = { status: "signed-out", expired: false };
      const outcome = probablySignedIn() ? await api.refresh() : "ended";
      if (outcome === "renewed") {
        try {
          next = { status: "signed-in", user: (await authApi.me()).data.user };
        } catch {
          api.setToken(null);
        }
      }
      if (outcome === "unavailable") {
        // The cookie may still be good: keep the hint, so the next load tries again.
        toast.show("Couldn't restore your session just now. Log in, or reload in a moment.", "info");
      } else {
        rememberSignedIn(next.status === "signed-in");
      }
      if (!run.cancelled) {
        setState(next);
      }
    })();
    return () => {
      run.cancelled = true;
    };
  }, [signOut, toast]);

  const start = useCallback((payload: AuthPayload) => {
    api.setToken(payload.token);
    rememberSignedIn(true);
    setState({ status: "signed-in", user: payload.user });
    return payload.user;
  }, []);

  const value = useMemo<Session>(
    () => ({
      state,
      login: async (input, challenge) => start((await authApi.login(input, challenge)).data),
      register: async (input, idempotencyKey, challenge) =>
        start((await authApi.register(input, idempotencyKey, challenge)).data),
      logout: async () => {
        try {
          await authApi.logout();
        } finally {
          signOut(false);
        }
      },
      replaceUser: (user) => {
        setState({ status: "signed-in", user });
      },
    }),
    [state, start, signOut],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const context = useContext(SessionContext);
  if (context === null) {
    throw new Error("useSession needs a SessionProvider");
  }
  return context;
}

export function useCurrentUser(): User {
  const { state } = useSession();
  if (state.status !== "signed-in") {
    throw new Error("useCurrentUser outside a signed-in page");
  }
  return state.user;
}
