import { zodResolver } from "@hookform/resolvers/zod";
import { useForm, useWatch } from "react-hook-form";

import type { Label } from "../api/types";
import {
  CancelButton,
  CheckboxSet,
  Field,
  FormTextArea,
  FormTextField,
  ServerForm,
  useServerSubmit,
} from "../ui/forms";
import { LabelChip } from "./LabelChip";
import { DESCRIPTION_MAX, REPEAT_EVERY_MAX, TITLE_MAX, taskFormSchema, type TaskFormValues } from "./taskSchema";
import { PriorityOptions, RepeatOptions, StatusOptions } from "./options";

const FIELDS = ["title", "description", "status", "priority", "dueDate", "assigneeEmail", "labels"] as const;

interface TaskFormProps {
  initial: TaskFormValues;
  /** The labels of the task's project to pick from; none, no picker. */
  labels?: readonly Label[];
  submitLabel: string;
  onSubmit: (values: TaskFormValues) => Promise<void>;
  onCancel: () => void;
}

export function TaskForm({ initial, labels = [], submitLabel, onSubmit, onCancel }: TaskFormProps) {
  const form = useForm<TaskFormValues>({ resolver: zodResolver(taskFormSchema), defaultValues: initial });
  const { submit, formError } = useServerSubmit(form, FIELDS, onSubmit);
  const { register } = form;
  const { errors, isSubmitting } = form.formState;
  const repeats = useWatch({ control: form.control, name: "repeatUnit" }) !== "";
  const chosen = useWatch({ control: form.control, name: "labels" });

  return (
    <ServerForm
      onSubmit={submit}
      error={formError}
      busy={isSubmitting}
      submitLabel={submitLabel}
      busyLabel="Saving…"
      className="task-form"
      secondary={<CancelButton onCancel={onCancel} />}
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
      <FormTextArea
        of={form}
        name="description"
        id="task-description"
        label="Description"
        hint={`Up to ${DESCRIPTION_MAX} characters`}
      />
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
      <div className="field-row">
        <Field id="task-repeat" label="Repeat" error={undefined}>
          {(describedBy) => (
            <select id="task-repeat" aria-describedby={describedBy} {...register("repeatUnit")}>
              <RepeatOptions />
            </select>
          )}
        </Field>
        {repeats && (
          <FormTextField
            of={form}
            name="repeatEvery"
            id="task-repeat-every"
            label="Every how many"
            type="number"
            min={1}
            max={REPEAT_EVERY_MAX}
            hint="Done, it comes back this much later"
          />
        )}
      </div>
      {labels.length > 0 && (
        <CheckboxSet
          legend="Labels"
          options={labels.map((label) => ({ value: label.id, label: <LabelChip label={label} /> }))}
          chosen={chosen}
          onChange={(next) => form.setValue("labels", next, { shouldDirty: true })}
          error={errors.labels?.message}
        />
      )}
    </ServerForm>
  );
}
