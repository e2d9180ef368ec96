import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { PRIORITY_LABELS, STATUS_LABELS, TASK_PRIORITIES, TASK_STATUSES } from "../api/types";
import { Field, applyServerErrors } from "../ui/forms";
import { DESCRIPTION_MAX, TITLE_MAX, taskFormSchema, type TaskFormValues } from "./taskSchema";

const FIELDS = ["title", "description", "status", "priority", "dueDate", "assigneeEmail"] as const;

interface TaskFormProps {
  initial: TaskFormValues;
  submitLabel: string;
  onSubmit: (values: TaskFormValues) => Promise<void>;
  onCancel: () => void;
}

export function TaskForm({ initial, submitLabel, onSubmit, onCancel }: TaskFormProps) {
  const [formError, setFormError] = useState("");
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<TaskFormValues>({ resolver: zodResolver(taskFormSchema), defaultValues: initial });

  const submit = handleSubmit(async (values) => {
    setFormError("");
    try {
      await onSubmit(values);
    } catch (error) {
      setFormError(applyServerErrors(error, setError, FIELDS));
    }
  });

  return (
    <form onSubmit={submit} noValidate className="task-form">
      {formError && (
        <p role="alert" className="form-error">
          {formError}
        </p>
      )}
      <Field id="task-title" label="Title" error={errors.title?.message}>
        {(describedBy, invalid) => (
          <input
            id="task-title"
            type="text"
            data-autofocus
            maxLength={TITLE_MAX + 20}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            {...register("title")}
          />
        )}
      </Field>
      <Field id="task-description" label="Description" error={errors.description?.message} hint={`Up to ${DESCRIPTION_MAX} characters`}>
        {(describedBy, invalid) => (
          <textarea
            id="task-description"
            rows={3}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            {...register("description")}
          />
        )}
      </Field>
      <div className="field-row">
        <Field id="task-status" label="Status" error={errors.status?.message}>
          {(describedBy) => (
            <select id="task-status" aria-describedby={describedBy} {...register("status")}>
              {TASK_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {STATUS_LABELS[status]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="task-priority" label="Priority" error={errors.priority?.message}>
          {(describedBy) => (
            <select id="task-priority" aria-describedby={describedBy} {...register("priority")}>
              {TASK_PRIORITIES.map((priority) => (
                <option key={priority} value={priority}>
                  {PRIORITY_LABELS[priority]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field id="task-due" label="Due date" error={errors.dueDate?.message} hint="Optional">
        {(describedBy, invalid) => (
          <input id="task-due" type="datetime-local" aria-describedby={describedBy} aria-invalid={invalid} {...register("dueDate")} />
        )}
      </Field>
      <Field id="task-assignee" label="Assign to (email)" error={errors.assigneeEmail?.message} hint="Optional: someone who may update its status">
        {(describedBy, invalid) => (
          <input
            id="task-assignee"
            type="email"
            autoComplete="off"
            aria-describedby={describedBy}
            aria-invalid={invalid}
            {...register("assigneeEmail")}
          />
        )}
      </Field>
      <div className="form-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={isSubmitting}>
          {isSubmitting ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
