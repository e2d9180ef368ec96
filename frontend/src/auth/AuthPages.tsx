import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useLocation, useNavigate } from "react-router";

import { ApiError } from "../api/client";
import { useSubmissionKeys } from "../api/idempotency";
import type { User } from "../api/types";
import { FormTextField, ServerForm, useServerSubmit } from "../ui/forms";
import { Page } from "../ui/Page";
import { useToast } from "../ui/toast";
import { loginSchema, registerSchema, type LoginValues, type RegisterValues } from "./authSchemas";
import { ChallengeWidget } from "./ChallengeWidget";
import { returnPath } from "./returnTo";
import { useSession } from "./session";

/** The check after repeated failed sign-ins: shown only once the server asks for it. */
function useChallenge() {
  const [needed, setNeeded] = useState(false);
  const [solution, setSolution] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  /** Runs `attempt` with the solution if there is one; a request for a check shows the widget. */
  const guard = async (attempt: (solution: string | undefined) => Promise<void>) => {
    try {
      await attempt(solution ?? undefined);
    } catch (error) {
      if (error instanceof ApiError && error.errors.some((item) => item.field === CHALLENGE_FIELD)) {
        setNeeded(true);
        setSolution(null);
        setRound((current) => current + 1); // a solution is good once: a fresh check
        throw new ApiError(error.status, CHALLENGE_MESSAGE, [], error.requestId);
      }
      if (solution !== null) {
        setSolution(null);
        setRound((current) => current + 1);
      }
      throw error;
    }
  };
  const widget = needed ? <ChallengeWidget key={round} onChange={setSolution} /> : null;
  return { guard, widget };
}

const CHALLENGE_FIELD = "altcha";
const CHALLENGE_MESSAGE = "Too many failed sign-ins from here. Complete the check below, then try again.";

/** After signing in: a greeting, then back to the page the visitor was sent away from. */
function useSignIn() {
  const navigate = useNavigate();
  const toast = useToast();
  const returnTo = returnPath(useLocation().state);
  const signedIn = (user: User, greeting: string) => {
    toast.show(`${greeting}, ${user.name}`);
    void navigate(returnTo, { replace: true });
  };
  return { returnTo, signedIn };
}

export function LoginPage() {
  const session = useSession();
  const { returnTo, signedIn } = useSignIn();
  const form = useForm<LoginValues>({ resolver: zodResolver(loginSchema), defaultValues: { email: "", password: "" } });
  const challenge = useChallenge();
  const { submit, formError } = useServerSubmit(form, ["email", "password"], (values) =>
    challenge.guard(async (solution) => {
      signedIn(await session.login(values, solution), "Welcome back");
    }),
  );

  return (
    <Page title="Log in" heading="Log in to Taskyard" className="auth-page">
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Log in"
        busyLabel="Logging in…"
        className="auth-form"
      >
        <FormTextField of={form} name="email" id="login-email" label="Email" type="email" autoComplete="email" />
        <FormTextField
          of={form}
          name="password"
          id="login-password"
          label="Password"
          type="password"
          autoComplete="current-password"
        />
        {challenge.widget}
      </ServerForm>
      <p>
        New here?{" "}
        <Link to="/register" state={{ from: returnTo }}>
          Create an account
        </Link>
      </p>
    </Page>
  );
}

export function RegisterPage() {
  const session = useSession();
  const { returnTo, signedIn } = useSignIn();
  const form = useForm<RegisterValues>({
    resolver: zodResolver(registerSchema),
    defaultValues: { name: "", email: "", password: "" },
  });
  const keys = useSubmissionKeys();
  const challenge = useChallenge();
  const { submit, formError } = useServerSubmit(form, ["name", "email", "password"], (values) =>
    challenge.guard(async (solution) => {
      signedIn(await session.register(values, keys.keyFor(values), solution), "Welcome to Taskyard");
    }),
  );

  return (
    <Page title="Create an account" heading="Create your Taskyard account" className="auth-page">
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Create account"
        busyLabel="Creating account…"
        className="auth-form"
      >
        <FormTextField of={form} name="name" id="register-name" label="Name" type="text" autoComplete="name" />
        <FormTextField of={form} name="email" id="register-email" label="Email" type="email" autoComplete="email" />
        <FormTextField
          of={form}
          name="password"
          id="register-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters"
        />
        {challenge.widget}
      </ServerForm>
      <p>
        Already have an account?{" "}
        <Link to="/login" state={{ from: returnTo }}>
          Log in
        </Link>
      </p>
    </Page>
  );
}
