import { useState } from "react";
import { useNavigate } from "react-router";

import { useCreateProject, useDeleteProject, useUpdateProject } from "../api/queries";
import { hasRole, type Project } from "../api/types";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { messageOf } from "../ui/forms";
import { useToast } from "../ui/toast";
import { ProjectForm } from "./ProjectForm";

/** A new project, the person its owner; on to its page once made. */
export function NewProjectDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const create = useCreateProject();
  const navigate = useNavigate();
  const toast = useToast();
  return (
    <Dialog title="New project" open={open} onClose={onClose}>
      <ProjectForm
        initial={{ name: "", description: "" }}
        submitLabel="Create project"
        onCancel={onClose}
        onSubmit={async (values) => {
          const answer = await create.mutateAsync(values);
          toast.show(answer.message);
          onClose();
          void navigate(`/projects/${answer.data.id}`);
        }}
      />
    </Dialog>
  );
}

/** Its name and description (admins), and deleting it with its tasks (the owner). */
export function ProjectSettingsDialog({
  project,
  open,
  onClose,
}: {
  project: Project;
  open: boolean;
  onClose: () => void;
}) {
  const update = useUpdateProject(project.id);
  const navigate = useNavigate();
  const toast = useToast();
  const remove = useDeleteProject(project.id, (answer) => {
    toast.show(answer.message);
    void navigate("/", { replace: true });
  });
  const [confirming, setConfirming] = useState(false);
  const canDelete = project.role === "owner" && !project.isInbox;
  return (
    <>
      <Dialog title="Project settings" open={open && !confirming} onClose={onClose}>
        <ProjectForm
          initial={{ name: project.name, description: project.description }}
          submitLabel="Save project"
          onCancel={onClose}
          onSubmit={async (values) => {
            const answer = await update.mutateAsync(values);
            toast.show(answer.message);
            onClose();
          }}
        />
        {canDelete && (
          <div className="danger-zone">
            <h3>Delete the project</h3>
            <p>Its tasks, labels and comments go with it, for every member.</p>
            <button type="button" className="button-danger-outline" onClick={() => setConfirming(true)}>
              Delete project
            </button>
          </div>
        )}
      </Dialog>
      <ConfirmDialog
        title="Delete project?"
        message={<>“{project.name}” and all its tasks will be deleted for good, for every member.</>}
        confirmLabel="Delete project"
        open={confirming}
        busy={remove.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() =>
          remove.mutate(undefined, {
            onError: (error) => {
              toast.show(messageOf(error), "error");
              setConfirming(false);
            },
          })
        }
      />
    </>
  );
}

export const canManage = (project: Project) => hasRole(project.role, "admin");
