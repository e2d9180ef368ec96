import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";

import { Field, FormTextField, ServerForm, useServerSubmit } from "../ui/forms";
import { DESCRIPTION_MAX, TITLE_MAX, taskFormSchema, type TaskFormValues } from "./taskSchema";
import { PriorityOptions, StatusOptions } from "./options";

const FIELDS = ["title", "description", "status", "priority", "dueDate", "assigneeEmail"] as const;

interface TaskFormProps {
  initial: TaskFormValues;
  submitLabel: string;
  onSubmit: (values: TaskFormValues) => Promise<void>;
  onCancel: () => void;
}

export function TaskForm({ initial, submitLabel, onSubmit, onCancel }: TaskFormProps) {
  const form = useForm<TaskFormValues>({ resolver: zodResolver(taskFormSchema), defaultValues: initial });
  const { submit, formError } = useServerSubmit(form, FIELDS, onSubmit);
  const { register } = form;
  const { errors, isSubmitting } = form.formState;

  return (
    <ServerForm
      onSubmit={submit}
      error={formError}
      busy={isSubmitting}
      submitLabel={submitLabel}
      busyLabel="Saving…"
      className="task-form"
      secondary={
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      }
    >
      <FormTextField
        of={form}
        name="title"
        id="task-title"
        label="Title"
        type="text"
        data-autofocus
        maxLength={TITLE_MAX + 20}
      />
      <Field
        id="task-description"
        label="Description"
        error={errors.description?.message}
        hint={`Up to ${DESCRIPTION_MAX} characters`}
      >
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
              <StatusOptions />
            </select>
          )}
        </Field>
        <Field id="task-priority" label="Priority" error={errors.priority?.message}>
          {(describedBy) => (
            <select id="task-priority" aria-describedby={describedBy} {...register("priority")}>
              <PriorityOptions />
            </select>
          )}
        </Field>
      </div>
      <FormTextField of={form} name="dueDate" id="task-due" label="Due date" type="datetime-local" hint="Optional" />
      <FormTextField
        of={form}
        name="assigneeEmail"
        id="task-assignee"
        label="Assign to (email)"
        type="email"
        autoComplete="off"
        hint="Optional: someone who may update its status"
      />
    </ServerForm>
  );
}
