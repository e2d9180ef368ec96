import { PRIORITY_LABELS, STATUS_LABELS, TASK_PRIORITIES, TASK_STATUSES, type TaskStats } from "../api/types";

function countOf(groups: TaskStats["byStatus"], key: string): number {
  return groups.find((group) => group._id === key)?.count ?? 0;
}

export function StatsCards({ stats }: { stats: TaskStats }) {
  return (
    <section aria-labelledby="stats-heading" className="stats">
      <h2 id="stats-heading" className="visually-hidden">
        Task statistics
      </h2>
      <dl className="stats-grid">
        <div className="stat-card stat-total">
          <dt>Total</dt>
          <dd data-testid="stat-total">{stats.total}</dd>
        </div>
        {TASK_STATUSES.map((status) => (
          <div key={status} className={`stat-card stat-${status}`}>
            <dt>{STATUS_LABELS[status]}</dt>
            <dd data-testid={`stat-${status}`}>{countOf(stats.byStatus, status)}</dd>
          </div>
        ))}
        {TASK_PRIORITIES.map((priority) => (
          <div key={priority} className={`stat-card stat-priority-${priority}`}>
            <dt>{PRIORITY_LABELS[priority]} priority</dt>
            <dd data-testid={`stat-priority-${priority}`}>{countOf(stats.byPriority, priority)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
