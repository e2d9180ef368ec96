import { useTaskStats } from "../api/queries";
import { messageOf } from "../ui/forms";
import { usePageTitle } from "../ui/Layout";
import { StatsCards } from "./StatsCards";
import { TaskBoard } from "./TaskBoard";

export function DashboardPage() {
  const headingRef = usePageTitle("Dashboard");
  const stats = useTaskStats();
  return (
    <div className="page">
      <h1 ref={headingRef} tabIndex={-1}>
        Dashboard
      </h1>
      {stats.isPending ? (
        <p role="status" className="state-message">
          Loading statistics…
        </p>
      ) : stats.isError ? (
        <p role="alert" className="state-message state-error">
          Couldn't load statistics: {messageOf(stats.error)}
        </p>
      ) : (
        <StatsCards stats={stats.data} />
      )}
      <TaskBoard mode="own" />
    </div>
  );
}

export function AssignedPage() {
  const headingRef = usePageTitle("Assigned to me");
  return (
    <div className="page">
      <h1 ref={headingRef} tabIndex={-1}>
        Assigned to me
      </h1>
      <p className="page-intro">Tasks other people gave you. You can move them along by changing their status.</p>
      <TaskBoard mode="assigned" />
    </div>
  );
}

export function AllTasksPage() {
  const headingRef = usePageTitle("All tasks");
  return (
    <div className="page">
      <h1 ref={headingRef} tabIndex={-1}>
        All tasks
      </h1>
      <TaskBoard mode="all" />
    </div>
  );
}
