import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";

import { ApiError } from "../api/client";
import { useProject } from "../api/queries";
import { ROLE_LABELS, hasRole, type Project } from "../api/types";
import { KanbanBoard } from "../tasks/KanbanBoard";
import { TaskBoard } from "../tasks/TaskBoard";
import { messageOf } from "../ui/forms";
import { Failed, Loading, Page } from "../ui/Page";
import { LabelsDialog } from "./LabelsDialog";
import { MembersDialog } from "./MembersDialog";
import { ProjectSettingsDialog } from "./ProjectDialogs";

type Open = "members" | "labels" | "settings" | null;

export function ProjectPage() {
  const { projectId = "" } = useParams();
  // Keyed by the project: its filters, cursors and dialogs start afresh in another one.
  return <ProjectScreen key={projectId} projectId={projectId} />;
}

function ProjectScreen({ projectId }: { projectId: string }) {
  const project = useProject(projectId);
  if (project.isPending) {
    return (
      <Page title="Project">
        <Loading>Loading the project…</Loading>
      </Page>
    );
  }
  if (project.isError) {
    // 404 for a project that doesn't exist and for one the person isn't (or is no longer) in.
    return project.error instanceof ApiError && project.error.status === 404 ? (
      <Page title="Project not found">
        <p>
          This project doesn't exist, or you aren't a member of it. <Link to="/">Back to your tasks</Link>
        </p>
      </Page>
    ) : (
      <Page title="Project">
        <Failed onRetry={() => void project.refetch()}>Couldn't load the project: {messageOf(project.error)}</Failed>
      </Page>
    );
  }
  return <ProjectView project={project.data} />;
}

function ProjectView({ project }: { project: Project }) {
  const [params] = useSearchParams();
  const view = params.get("view") === "board" ? "board" : "list";
  const [open, setOpen] = useState<Open>(null);
  const manages = hasRole(project.role, "admin");
  const close = () => setOpen(null);
  return (
    <Page title={project.name} intro={project.description || undefined}>
      <div className="project-toolbar">
        <nav aria-label="Views" className="view-switch">
          <Link to="?" aria-current={view === "list" ? "page" : undefined}>
            List
          </Link>
          <Link to="?view=board" aria-current={view === "board" ? "page" : undefined}>
            Board
          </Link>
        </nav>
        {project.role && (
          <span className={`badge role-${project.role}`} data-testid="project-role">
            {project.isInbox ? "Personal" : `You: ${ROLE_LABELS[project.role]}`}
          </span>
        )}
        <div className="project-actions">
          {!project.isInbox && (
            <button type="button" className="button-secondary" onClick={() => setOpen("members")}>
              Members
            </button>
          )}
          {manages && (
            <>
              <button type="button" className="button-secondary" onClick={() => setOpen("labels")}>
                Labels
              </button>
              <button type="button" className="button-secondary" onClick={() => setOpen("settings")}>
                Project settings
              </button>
            </>
          )}
        </div>
      </div>
      {view === "board" ? <KanbanBoard project={project} /> : <TaskBoard mode="project" project={project} />}
      <MembersDialog project={project} open={open === "members"} onClose={close} />
      <LabelsDialog project={project} open={open === "labels"} onClose={close} />
      <ProjectSettingsDialog project={project} open={open === "settings"} onClose={close} />
    </Page>
  );
}
