interface PaginationProps {
  page: number;
  pages: number;
  onPage: (page: number) => void;
  label?: string;
  busy?: boolean;
}

/** Prev/Next with "Page X of Y"; an empty result still reads as one page. */
export function Pagination({ page, pages, onPage, label = "Pagination", busy = false }: PaginationProps) {
  const lastPage = Math.max(pages, 1);
  return (
    <nav className="pagination" aria-label={label}>
      <button type="button" className="button-secondary" onClick={() => onPage(page - 1)} disabled={busy || page <= 1}>
        ← Prev
      </button>
      <span aria-live="polite">
        Page {Math.min(page, lastPage)} of {lastPage}
      </span>
      <button
        type="button"
        className="button-secondary"
        onClick={() => onPage(page + 1)}
        disabled={busy || page >= lastPage}
      >
        Next →
      </button>
    </nav>
  );
}
