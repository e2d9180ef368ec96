import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";

import { useLabelChanges, useLabels } from "../api/queries";
import type { Project } from "../api/types";
import { Dialog } from "../ui/Dialog";
import { Field, FormTextField, ServerForm, messageOf, useServerSubmit } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { toastOutcome, useToast } from "../ui/toast";
import { LabelChip } from "../tasks/LabelChip";
import { labelFormSchema, type LabelFormValues } from "./projectSchema";

const FIELDS = ["name", "color"] as const;
const FIRST_COLOR = "#2563eb";

/** The project's labels: add one, delete one (it leaves every task that carried it). */
export function LabelsDialog({ project, open, onClose }: { project: Project; open: boolean; onClose: () => void }) {
  const labels = useLabels(open ? project.id : undefined);
  const changes = useLabelChanges(project.id);
  const toast = useToast();
  const form = useForm<LabelFormValues>({
    resolver: zodResolver(labelFormSchema),
    defaultValues: { name: "", color: FIRST_COLOR },
  });
  const { submit, formError } = useServerSubmit(form, FIELDS, async (values) => {
    const answer = await changes.create.mutateAsync(values);
    toast.show(answer.message);
    form.reset({ name: "", color: values.color });
  });

  return (
    <Dialog title={`Labels of ${project.name}`} open={open} onClose={onClose}>
      {labels.isPending ? (
        <Loading>Loading labels…</Loading>
      ) : labels.isError ? (
        <Failed onRetry={() => void labels.refetch()}>Couldn't load the labels: {messageOf(labels.error)}</Failed>
      ) : labels.data.length === 0 ? (
        <p className="state-empty">No labels yet.</p>
      ) : (
        <ul className="label-list">
          {labels.data.map((label) => (
            <li key={label.id}>
              <LabelChip label={label} />
              <button
                type="button"
                className="button-danger-outline button-small"
                disabled={changes.remove.isPending}
                onClick={() => changes.remove.mutate(label.id, toastOutcome(toast))}
              >
                Delete label {label.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Add label"
        busyLabel="Adding…"
        className="inline-form"
      >
        <FormTextField of={form} name="name" id="label-name" label="Label name" type="text" data-autofocus />
        <Field id="label-color" label="Colour" error={form.formState.errors.color?.message}>
          {(describedBy) => (
            <input id="label-color" type="color" aria-describedby={describedBy} {...form.register("color")} />
          )}
        </Field>
      </ServerForm>
    </Dialog>
  );
}
