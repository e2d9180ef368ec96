import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import { z } from "zod";

import { useApiTokenChanges, useApiTokens } from "../api/queries";
import { TOKEN_SCOPES, type TokenScope } from "../api/types";
import { CheckboxSet, FormTextField, ServerForm, messageOf, useServerSubmit } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { toastOutcome, useToast } from "../ui/toast";

const SCOPE_LABELS: Record<TokenScope, string> = {
  "tasks:read": "Read tasks",
  "tasks:write": "Change tasks",
  "projects:read": "Read projects",
  "projects:write": "Change projects",
};

export const TOKEN_NAME_MAX = 100;

const tokenSchema = z.object({
  name: z.string().trim().min(1, "Give the token a name").max(TOKEN_NAME_MAX),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, "Pick at least one scope"),
  // A date (yyyy-mm-dd), or empty: it lasts until revoked.
  expiresOn: z.string(),
});
type TokenValues = z.infer<typeof tokenSchema>;

function shownDate(iso: string | null | undefined, none: string): string {
  return iso ? new Date(iso).toLocaleDateString() : none;
}

/** Personal API tokens: made here, shown once, listed by name and prefix, revoked here. */
export function ApiTokens() {
  const tokens = useApiTokens();
  const changes = useApiTokenChanges();
  const toast = useToast();
  const [made, setMade] = useState<string | null>(null);
  const form = useForm<TokenValues>({
    resolver: zodResolver(tokenSchema),
    defaultValues: { name: "", scopes: ["tasks:read"], expiresOn: "" },
  });
  const chosen = useWatch({ control: form.control, name: "scopes" });
  const { submit, formError } = useServerSubmit(form, ["name", "scopes"], async (values) => {
    const expiresAt = values.expiresOn === "" ? null : new Date(`${values.expiresOn}T23:59:59`).toISOString();
    const answer = await changes.create.mutateAsync({ name: values.name, scopes: values.scopes, expiresAt });
    setMade(answer.data.token);
    form.reset({ name: "", scopes: values.scopes, expiresOn: "" });
  });

  return (
    <section aria-labelledby="tokens-heading" className="api-tokens">
      <h2 id="tokens-heading">API tokens</h2>
      <p className="field-hint">
        For scripts and other tools: send one as <code>Authorization: Bearer …</code>. A token reaches only what its
        scopes say, never your account or its tokens.
      </p>
      {made !== null && (
        <div className="token-made" role="status">
          <p>
            <strong>Copy your new token now:</strong> it won't be shown again.
          </p>
          <code data-testid="new-token">{made}</code>
          <button type="button" className="button-secondary button-small" onClick={() => setMade(null)}>
            Done
          </button>
        </div>
      )}
      {tokens.isPending ? (
        <Loading>Loading tokens…</Loading>
      ) : tokens.isError ? (
        <Failed onRetry={() => void tokens.refetch()}>Couldn't load your tokens: {messageOf(tokens.error)}</Failed>
      ) : tokens.data.length === 0 ? (
        <p className="state-empty">No tokens yet.</p>
      ) : (
        <ul className="token-list">
          {tokens.data.map((token) => (
            <li key={token.id} data-testid="api-token">
              <div>
                <strong>{token.name}</strong> <code>{token.prefix}…</code>
                <p className="field-hint">
                  {token.scopes.map((scope) => SCOPE_LABELS[scope]).join(", ")} · made {shownDate(token.createdAt, "")}{" "}
                  · last used {shownDate(token.lastUsedAt, "never")} · expires {shownDate(token.expiresAt, "never")}
                </p>
              </div>
              <button
                type="button"
                className="button-danger-outline button-small"
                aria-label={`Revoke ${token.name}`}
                disabled={changes.revoke.isPending}
                onClick={() => changes.revoke.mutate(token.id, toastOutcome(toast))}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Create token"
        busyLabel="Creating…"
        className="inline-form"
      >
        <FormTextField of={form} name="name" id="token-name" label="Token name" type="text" autoComplete="off" />
        <CheckboxSet
          legend="Scopes"
          options={TOKEN_SCOPES.map((scope) => ({ value: scope, label: SCOPE_LABELS[scope] }))}
          chosen={chosen}
          onChange={(next) => form.setValue("scopes", next, { shouldDirty: true })}
          error={form.formState.errors.scopes?.message}
        />
        <FormTextField of={form} name="expiresOn" id="token-expires" label="Expires on" type="date" hint="Optional" />
      </ServerForm>
    </section>
  );
}
