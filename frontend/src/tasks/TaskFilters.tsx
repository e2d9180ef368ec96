import { useEffect, useRef, useState, type ReactNode } from "react";

import type { TaskSort } from "../api/types";
import { PriorityOptions, StatusOptions } from "./options";

export const SORT_LABELS: Record<TaskSort, string> = {
  "-createdAt": "Newest first",
  createdAt: "Oldest first",
  dueDate: "Due soonest",
  "-dueDate": "Due latest",
  "-priority": "Highest priority",
  priority: "Lowest priority",
  title: "Title A–Z",
  "-title": "Title Z–A",
  position: "Board order",
  "-position": "Board order, reversed",
};

export interface TaskFilterValues {
  status: string;
  priority: string;
  search: string;
  sort: TaskSort;
}

interface TaskFiltersProps {
  values: TaskFilterValues;
  onChange: (changes: Partial<TaskFilterValues>) => void;
  extra?: ReactNode;
}

const SEARCH_DELAY_MS = 300;

export function TaskFilters({ values, onChange, extra }: TaskFiltersProps) {
  const [search, setSearch] = useState(values.search);
  const sent = useRef(values.search);

  // Follow the address (Back, a link) but not the echo of what this box just sent, which
  // would undo keys typed while it travelled.
  useEffect(() => {
    if (values.search !== sent.current) {
      sent.current = values.search;
      setSearch(values.search);
    }
  }, [values.search]);

  // Ask the server once typing pauses, not on every key.
  useEffect(() => {
    if (search === sent.current) {
      return;
    }
    const timer = window.setTimeout(() => {
      sent.current = search;
      onChange({ search });
    }, SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [search, onChange]);

  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter tasks"
      onSubmit={(event) => {
        event.preventDefault();
        sent.current = search;
        onChange({ search });
      }}
    >
      <div className="field">
        <label htmlFor="filter-search">Search</label>
        <input
          id="filter-search"
          type="search"
          placeholder="Title or description"
          value={search}
          maxLength={100}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" value={values.status} onChange={(event) => onChange({ status: event.target.value })}>
          <option value="">All statuses</option>
          <StatusOptions />
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-priority">Priority</label>
        <select
          id="filter-priority"
          value={values.priority}
          onChange={(event) => onChange({ priority: event.target.value })}
        >
          <option value="">All priorities</option>
          <PriorityOptions />
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-sort">Sort</label>
        <select
          id="filter-sort"
          value={values.sort}
          onChange={(event) => onChange({ sort: event.target.value as TaskSort })}
        >
          {Object.entries(SORT_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {extra}
    </form>
  );
}
