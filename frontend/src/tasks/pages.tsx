import { useTaskStats } from "../api/queries";
import { messageOf } from "../ui/forms";
import { Failed, Loading, Page } from "../ui/Page";
import { StatsCards } from "./StatsCards";
import { TaskBoard } from "./TaskBoard";

export function DashboardPage() {
  const stats = useTaskStats();
  return (
    <Page title="Dashboard">
      {stats.isPending ? (
        <Loading>Loading statistics…</Loading>
      ) : stats.isError ? (
        <Failed onRetry={() => void stats.refetch()}>Couldn't load statistics: {messageOf(stats.error)}</Failed>
      ) : (
        <StatsCards stats={stats.data} />
      )}
      <TaskBoard mode="own" />
    </Page>
  );
}

export function AssignedPage() {
  return (
    <Page title="Assigned to me" intro="Tasks other people gave you. You can move them along by changing their status.">
      <TaskBoard mode="assigned" />
    </Page>
  );
}

export function AllTasksPage() {
  return (
    <Page title="All tasks">
      <TaskBoard mode="all" />
    </Page>
  );
}
