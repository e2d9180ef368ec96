import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link, useLocation, useNavigate } from "react-router";

import { Field, applyServerErrors } from "../ui/forms";
import { usePageTitle } from "../ui/Layout";
import { useToast } from "../ui/toast";
import { loginSchema, registerSchema, type LoginValues, type RegisterValues } from "./authSchemas";
import { useSession } from "./session";

/** Where to go after signing in: the page the user was sent away from, if any. */
function useReturnTo(): string {
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  return from && from.startsWith("/") && !from.startsWith("//") ? from : "/";
}

export function LoginPage() {
  const headingRef = usePageTitle("Log in");
  const session = useSession();
  const navigate = useNavigate();
  const returnTo = useReturnTo();
  const toast = useToast();
  const [formError, setFormError] = useState("");
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({ resolver: zodResolver(loginSchema), defaultValues: { email: "", password: "" } });

  const submit = handleSubmit(async (values) => {
    setFormError("");
    try {
      const user = await session.login(values);
      toast.show(`Welcome back, ${user.name}`);
      void navigate(returnTo, { replace: true });
    } catch (error) {
      setFormError(applyServerErrors(error, setError, ["email", "password"]));
    }
  });

  return (
    <div className="auth-page">
      <h1 ref={headingRef} tabIndex={-1}>
        Log in to Taskyard
      </h1>
      <form onSubmit={submit} noValidate className="auth-form">
        {formError && (
          <p role="alert" className="form-error">
            {formError}
          </p>
        )}
        <Field id="login-email" label="Email" error={errors.email?.message}>
          {(describedBy, invalid) => (
            <input id="login-email" type="email" autoComplete="email" aria-describedby={describedBy} aria-invalid={invalid} {...register("email")} />
          )}
        </Field>
        <Field id="login-password" label="Password" error={errors.password?.message}>
          {(describedBy, invalid) => (
            <input
              id="login-password"
              type="password"
              autoComplete="current-password"
              aria-describedby={describedBy}
              aria-invalid={invalid}
              {...register("password")}
            />
          )}
        </Field>
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        New here? <Link to="/register" state={{ from: returnTo }}>Create an account</Link>
      </p>
    </div>
  );
}

export function RegisterPage() {
  const headingRef = usePageTitle("Create an account");
  const session = useSession();
  const navigate = useNavigate();
  const returnTo = useReturnTo();
  const toast = useToast();
  const [formError, setFormError] = useState("");
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<RegisterValues>({
    resolver: zodResolver(registerSchema),
    defaultValues: { name: "", email: "", password: "" },
  });

  const submit = handleSubmit(async (values) => {
    setFormError("");
    try {
      const user = await session.register(values);
      toast.show(`Welcome to Taskyard, ${user.name}`);
      void navigate(returnTo, { replace: true });
    } catch (error) {
      setFormError(applyServerErrors(error, setError, ["name", "email", "password"]));
    }
  });

  return (
    <div className="auth-page">
      <h1 ref={headingRef} tabIndex={-1}>
        Create your Taskyard account
      </h1>
      <form onSubmit={submit} noValidate className="auth-form">
        {formError && (
          <p role="alert" className="form-error">
            {formError}
          </p>
        )}
        <Field id="register-name" label="Name" error={errors.name?.message}>
          {(describedBy, invalid) => (
            <input id="register-name" type="text" autoComplete="name" aria-describedby={describedBy} aria-invalid={invalid} {...register("name")} />
          )}
        </Field>
        <Field id="register-email" label="Email" error={errors.email?.message}>
          {(describedBy, invalid) => (
            <input id="register-email" type="email" autoComplete="email" aria-describedby={describedBy} aria-invalid={invalid} {...register("email")} />
          )}
        </Field>
        <Field id="register-password" label="Password" error={errors.password?.message} hint="At least 8 characters">
          {(describedBy, invalid) => (
            <input
              id="register-password"
              type="password"
              autoComplete="new-password"
              aria-describedby={describedBy}
              aria-invalid={invalid}
              {...register("password")}
            />
          )}
        </Field>
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Creating account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/login" state={{ from: returnTo }}>Log in</Link>
      </p>
    </div>
  );
}
