import { useState } from "react";
import { NavLink } from "react-router";

import { useProjects } from "../api/queries";
import { messageOf } from "../ui/forms";
import { NewProjectDialog } from "./ProjectDialogs";

/** The person's projects, the personal one first, and a way to start another. */
export function ProjectSidebar() {
  const projects = useProjects();
  const [creating, setCreating] = useState(false);
  const listed = projects.data?.data ?? [];
  return (
    <nav aria-label="Projects" className="sidebar">
      <h2 className="sidebar-heading">Projects</h2>
      {projects.isError ? (
        <p className="field-error">Couldn't load your projects: {messageOf(projects.error)}</p>
      ) : (
        <ul className="project-links" aria-busy={projects.isPending}>
          {listed.map((project) => (
            <li key={project.id}>
              <NavLink to={`/projects/${project.id}`}>
                {project.name}
                {project.isInbox && <span className="visually-hidden"> (personal)</span>}
              </NavLink>
            </li>
          ))}
        </ul>
      )}
      {projects.data !== undefined && projects.data.total > listed.length && (
        <p className="field-hint">
          {listed.length} of {projects.data.total} projects shown.
        </p>
      )}
      <button type="button" className="button-secondary" onClick={() => setCreating(true)}>
        + New project
      </button>
      <NewProjectDialog open={creating} onClose={() => setCreating(false)} />
    </nav>
  );
}
