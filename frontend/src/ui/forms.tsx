import { useState, type BaseSyntheticEvent, type InputHTMLAttributes, type ReactNode } from "react";
import type { FieldValues, Path, UseFormReturn, UseFormRegisterReturn, UseFormSetError } from "react-hook-form";

import { ApiError } from "../api/client";

interface FieldProps {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (describedBy: string | undefined, invalid: boolean) => ReactNode;
}

/** A label, the control, and its error, tied together for screen readers. */
export function Field({ id, label, error, hint, children }: FieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(describedBy, Boolean(error))}
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id"> {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  registration: UseFormRegisterReturn;
}

export function TextField({ id, label, error, hint, registration, ...input }: TextFieldProps) {
  return (
    <Field id={id} label={label} error={error} {...(hint ? { hint } : {})}>
      {(describedBy, invalid) => (
        <input id={id} aria-describedby={describedBy} aria-invalid={invalid} {...input} {...registration} />
      )}
    </Field>
  );
}

interface FormTextFieldProps<Values extends FieldValues> extends Omit<TextFieldProps, "error" | "registration"> {
  /** The react-hook-form form (`form` itself is an <input> attribute). */
  of: UseFormReturn<Values>;
  name: Path<Values>;
}

/** A TextField bound to one field of a react-hook-form form, with its error. */
export function FormTextField<Values extends FieldValues>({ of: form, name, ...field }: FormTextFieldProps<Values>) {
  const { error } = form.getFieldState(name, form.formState);
  return <TextField {...field} error={error?.message} registration={form.register(name)} />;
}

interface FormTextAreaProps<Values extends FieldValues> {
  of: UseFormReturn<Values>;
  name: Path<Values>;
  id: string;
  label: string;
  hint?: string;
  rows?: number;
}

/** A multi-line field bound to a react-hook-form form, with its hint and error. */
export function FormTextArea<Values extends FieldValues>({
  of: form,
  name,
  id,
  label,
  hint,
  rows = 3,
}: FormTextAreaProps<Values>) {
  const { error } = form.getFieldState(name, form.formState);
  return (
    <Field id={id} label={label} error={error?.message} {...(hint ? { hint } : {})}>
      {(describedBy, invalid) => (
        <textarea id={id} rows={rows} aria-describedby={describedBy} aria-invalid={invalid} {...form.register(name)} />
      )}
    </Field>
  );
}

interface CheckboxSetProps<Value extends string> {
  legend: string;
  options: readonly { value: Value; label: ReactNode }[];
  chosen: readonly Value[];
  onChange: (chosen: Value[]) => void;
  error?: string | undefined;
}

/** A set of checkboxes choosing several values (react-hook-form reads a lone one as a boolean). */
export function CheckboxSet<Value extends string>({
  legend,
  options,
  chosen,
  onChange,
  error,
}: CheckboxSetProps<Value>) {
  return (
    <fieldset className="label-picker">
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="label-choice">
          <input
            type="checkbox"
            checked={chosen.includes(option.value)}
            onChange={(event) =>
              onChange(
                event.target.checked ? [...chosen, option.value] : chosen.filter((value) => value !== option.value),
              )
            }
          />{" "}
          {option.label}
        </label>
      ))}
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

/** The secondary action of a form in a dialog. */
export function CancelButton({ onCancel }: { onCancel: () => void }) {
  return (
    <button type="button" className="button-secondary" onClick={onCancel}>
      Cancel
    </button>
  );
}

interface ServerFormProps {
  onSubmit: (event?: BaseSyntheticEvent) => Promise<void>;
  error: string;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  className?: string;
  /** Beside the submit button, before it. */
  secondary?: ReactNode;
  children: ReactNode;
}

/** A form checked in the browser first (noValidate: our messages, not the browser's). */
export function ServerForm({
  onSubmit,
  error,
  busy,
  submitLabel,
  busyLabel,
  className,
  secondary,
  children,
}: ServerFormProps) {
  return (
    <form onSubmit={(event) => void onSubmit(event)} noValidate className={className}>
      <FormError message={error} />
      {children}
      <div className="form-actions">
        {secondary}
        <button type="submit" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </form>
  );
}

/** The form-wide message: a refusal that names no field, read out as it appears. */
export function FormError({ message }: { message: string }) {
  return message ? (
    <p role="alert" className="form-error">
      {message}
    </p>
  ) : null;
}

/**
 * Puts the API's `errors[]` on the matching fields. Returns the message for the form as a whole
 * when nothing matched a field (or it wasn't a validation failure).
 */
export function applyServerErrors<Values extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<Values>,
  fields: readonly Path<Values>[],
): string {
  if (!(error instanceof ApiError)) {
    return "Something went wrong. Please try again.";
  }
  let placed = false;
  for (const fieldError of error.errors) {
    const field = fields.find((name) => name === fieldError.field);
    if (field !== undefined) {
      setError(field, { type: "server", message: fieldError.message }, { shouldFocus: !placed });
      placed = true;
    }
  }
  return placed ? "" : error.message;
}

/** Submits checked values; what the server refuses lands on its field, or above the form. */
export function useServerSubmit<Values extends FieldValues>(
  form: UseFormReturn<Values>,
  fields: readonly Path<Values>[],
  action: (values: Values) => Promise<void>,
) {
  const [formError, setFormError] = useState("");
  const submit = form.handleSubmit(async (values) => {
    setFormError("");
    try {
      await action(values);
    } catch (error) {
      setFormError(applyServerErrors(error, form.setError, fields));
    }
  });
  return { submit, formError };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : "Something went wrong. Please try again.";
}
