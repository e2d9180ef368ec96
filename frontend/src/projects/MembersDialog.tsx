import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useNavigate } from "react-router";

import { useLeaveProject, useMembers, useMembership } from "../api/queries";
import { GIVEN_ROLES, ROLE_LABELS, hasRole, type GivenRole, type Member, type Project } from "../api/types";
import { useCurrentUser } from "../auth/session";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { Field, FormTextField, ServerForm, messageOf, useServerSubmit } from "../ui/forms";
import { Failed, Loading } from "../ui/Page";
import { toastOutcome, useToast } from "../ui/toast";
import { memberFormSchema, type MemberFormValues } from "./projectSchema";

const FIELDS = ["email", "role"] as const;

function RoleOptions() {
  return GIVEN_ROLES.map((role) => (
    <option key={role} value={role}>
      {ROLE_LABELS[role]}
    </option>
  ));
}

/** Who is in the project and with what role: add by email, change a role, remove, leave, hand over. */
export function MembersDialog({ project, open, onClose }: { project: Project; open: boolean; onClose: () => void }) {
  const me = useCurrentUser();
  const members = useMembers(project.id, open);
  const membership = useMembership(project.id);
  const toast = useToast();
  const navigate = useNavigate();
  const leave = useLeaveProject(project.id, me.id, (answer) => {
    toast.show(answer.message);
    void navigate("/", { replace: true });
  });
  const [handingOver, setHandingOver] = useState<Member | null>(null);
  const [leaving, setLeaving] = useState(false);
  const manages = hasRole(project.role, "admin");
  const owns = project.role === "owner";

  return (
    <>
      <Dialog title={`Members of ${project.name}`} open={open && handingOver === null && !leaving} onClose={onClose}>
        {members.isPending ? (
          <Loading>Loading members…</Loading>
        ) : members.isError ? (
          <Failed onRetry={() => void members.refetch()}>Couldn't load the members: {messageOf(members.error)}</Failed>
        ) : (
          <table className="members-table">
            <caption className="visually-hidden">Members and their roles</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((member) => {
                const self = member.id === me.id;
                const roleId = `member-role-${member.id}`;
                return (
                  <tr key={member.id} data-testid="member-row">
                    <th scope="row">
                      {member.name}
                      {self && " (you)"}
                      <span className="member-email">{member.email}</span>
                    </th>
                    <td>
                      {manages && member.role !== "owner" ? (
                        <>
                          <label htmlFor={roleId} className="visually-hidden">
                            Role of {member.name}
                          </label>
                          <select
                            id={roleId}
                            value={member.role}
                            disabled={membership.changeRole.isPending}
                            onChange={(event) =>
                              membership.changeRole.mutate(
                                { userId: member.id, role: event.target.value as GivenRole },
                                toastOutcome(toast),
                              )
                            }
                          >
                            <RoleOptions />
                          </select>
                        </>
                      ) : (
                        <span className={`badge role-${member.role}`}>{ROLE_LABELS[member.role]}</span>
                      )}
                    </td>
                    <td>
                      <div className="member-actions">
                        {self && member.role !== "owner" && (
                          <button
                            type="button"
                            className="button-danger-outline button-small"
                            onClick={() => setLeaving(true)}
                          >
                            Leave project
                          </button>
                        )}
                        {!self && owns && (
                          <button
                            type="button"
                            className="button-secondary button-small"
                            onClick={() => setHandingOver(member)}
                            aria-label={`Make owner: ${member.name}`}
                          >
                            Make owner
                          </button>
                        )}
                        {!self && manages && member.role !== "owner" && (
                          <button
                            type="button"
                            className="button-danger-outline button-small"
                            aria-label={`Remove ${member.name}`}
                            disabled={membership.remove.isPending}
                            onClick={() => membership.remove.mutate(member.id, toastOutcome(toast))}
                          >
                            Remove
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {manages && <AddMemberForm project={project} />}
      </Dialog>
      <ConfirmDialog
        title="Hand the project over?"
        message={
          <>
            {handingOver?.name} becomes the owner of “{project.name}”; you stay on as an admin.
          </>
        }
        confirmLabel="Hand it over"
        open={handingOver !== null}
        busy={membership.transfer.isPending}
        onCancel={() => setHandingOver(null)}
        onConfirm={() =>
          membership.transfer.mutate(handingOver?.id ?? "", {
            ...toastOutcome(toast),
            onSettled: () => setHandingOver(null),
          })
        }
      />
      <ConfirmDialog
        title="Leave the project?"
        message={<>You won't see “{project.name}” or its tasks any more, unless someone adds you again.</>}
        confirmLabel="Leave project"
        open={leaving}
        busy={leave.isPending}
        onCancel={() => setLeaving(false)}
        onConfirm={() =>
          leave.mutate(undefined, {
            onError: (error) => {
              toastOutcome(toast).onError(error);
              setLeaving(false);
            },
          })
        }
      />
    </>
  );
}

function AddMemberForm({ project }: { project: Project }) {
  const membership = useMembership(project.id);
  const toast = useToast();
  const form = useForm<MemberFormValues>({
    resolver: zodResolver(memberFormSchema),
    defaultValues: { email: "", role: "editor" },
  });
  const { submit, formError } = useServerSubmit(form, FIELDS, async (values) => {
    const answer = await membership.add.mutateAsync(values);
    toast.show(answer.message);
    form.reset({ email: "", role: values.role });
  });
  return (
    <section aria-labelledby="add-member-heading" className="add-member">
      <h3 id="add-member-heading">Add someone</h3>
      <ServerForm
        onSubmit={submit}
        error={formError}
        busy={form.formState.isSubmitting}
        submitLabel="Add member"
        busyLabel="Adding…"
        className="inline-form"
      >
        <FormTextField
          of={form}
          name="email"
          id="member-email"
          label="Their email"
          type="email"
          autoComplete="off"
          hint="Someone with a Taskyard account"
        />
        <Field id="member-role" label="Role" error={form.formState.errors.role?.message}>
          {(describedBy) => (
            <select id="member-role" aria-describedby={describedBy} {...form.register("role")}>
              <RoleOptions />
            </select>
          )}
        </Field>
      </ServerForm>
    </section>
  );
}
