import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";

import { Field, FormTextField, ServerForm, useServerSubmit } from "../ui/forms";
import { PROJECT_DESCRIPTION_MAX, PROJECT_NAME_MAX, projectFormSchema, type ProjectFormValues } from "./projectSchema";

const FIELDS = ["name", "description"] as const;

interface ProjectFormProps {
  initial: ProjectFormValues;
  submitLabel: string;
  onSubmit: (values: ProjectFormValues) => Promise<void>;
  onCancel: () => void;
}

export function ProjectForm({ initial, submitLabel, onSubmit, onCancel }: ProjectFormProps) {
  const form = useForm<ProjectFormValues>({ resolver: zodResolver(projectFormSchema), defaultValues: initial });
  const { submit, formError } = useServerSubmit(form, FIELDS, onSubmit);
  const { errors, isSubmitting } = form.formState;
  return (
    <ServerForm
      onSubmit={submit}
      error={formError}
      busy={isSubmitting}
      submitLabel={submitLabel}
      busyLabel="Saving…"
      secondary={
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      }
    >
      <FormTextField
        of={form}
        name="name"
        id="project-name"
        label="Project name"
        type="text"
        data-autofocus
        maxLength={PROJECT_NAME_MAX + 20}
      />
      <Field
        id="project-description"
        label="About the project"
        error={errors.description?.message}
        hint={`Optional, up to ${PROJECT_DESCRIPTION_MAX} characters`}
      >
        {(describedBy, invalid) => (
          <textarea
            id="project-description"
            rows={3}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            {...form.register("description")}
          />
        )}
      </Field>
    </ServerForm>
  );
}
