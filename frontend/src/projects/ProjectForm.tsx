import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";

import { CancelButton, FormTextArea, FormTextField, ServerForm, useServerSubmit } from "../ui/forms";
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
  const { isSubmitting } = form.formState;
  return (
    <ServerForm
      onSubmit={submit}
      error={formError}
      busy={isSubmitting}
      submitLabel={submitLabel}
      busyLabel="Saving…"
      secondary={<CancelButton onCancel={onCancel} />}
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
      <FormTextArea
        of={form}
        name="description"
        id="project-description"
        label="About the project"
        hint={`Optional, up to ${PROJECT_DESCRIPTION_MAX} characters`}
      />
    </ServerForm>
  );
}
