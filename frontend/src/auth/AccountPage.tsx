import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { z } from "zod";

import { authApi } from "../api/endpoints";
import type { MeUpdate } from "../api/types";
import { FormTextField, ServerForm, useServerSubmit } from "../ui/forms";
import { Page } from "../ui/Page";
import { useToast } from "../ui/toast";
import { ApiTokens } from "./ApiTokens";
import { registerSchema } from "./authSchemas";
import { useCurrentUser, useSession } from "./session";

const accountSchema = z.object({ name: registerSchema.shape.name, notifications: z.boolean() });
type AccountValues = z.infer<typeof accountSchema>;

export function AccountPage() {
  const user = useCurrentUser();
  const { replaceUser } = useSession();
  const toast = useToast();
  const form = useForm<AccountValues>({
    resolver: zodResolver(accountSchema),
    defaultValues: { name: user.name, notifications: user.notifications },
  });
  const { submit, formError } = useServerSubmit(form, ["name", "notifications"], async (values) => {
    const changes: MeUpdate = {};
    if (values.name !== user.name) changes.name = values.name;
    if (values.notifications !== user.notifications) changes.notifications = values.notifications;
    if (Object.keys(changes).length === 0) {
      toast.show("Nothing to save", "info");
      return;
    }
    const answer = await authApi.updateMe(changes);
    replaceUser(answer.data.user);
    form.reset({ name: answer.data.user.name, notifications: answer.data.user.notifications });
    toast.show(answer.message);
  });

  return (
    <Page title="Account" intro={`Signed in as ${user.email}.`}>
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Save"
        busyLabel="Saving…"
        className="account-form"
      >
        <FormTextField of={form} name="name" id="account-name" label="Name" type="text" autoComplete="name" />
        <div className="field field-checkbox">
          <input id="account-notifications" type="checkbox" {...form.register("notifications")} />
          <label htmlFor="account-notifications">
            Email me about my tasks (assignments, due-soon reminders, finished exports)
          </label>
        </div>
      </ServerForm>
      <ApiTokens />
    </Page>
  );
}
