import type { ReactNode } from "react";

import { usePageTitle } from "./Layout";

interface PageProps {
  title: string;
  heading?: string;
  intro?: ReactNode;
  className?: string;
  children: ReactNode;
}

/** A routed page: its title in the tab, and its heading focused on arrival. */
export function Page({ title, heading = title, intro, className = "page", children }: PageProps) {
  const headingRef = usePageTitle(title);
  return (
    <div className={className}>
      <h1 ref={headingRef} tabIndex={-1}>
        {heading}
      </h1>
      {intro && <p className="page-intro">{intro}</p>}
      {children}
    </div>
  );
}

export function Loading({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="state-message">
      {children}
    </p>
  );
}

export function Failed({ children, onRetry }: { children: ReactNode; onRetry?: () => void }) {
  return (
    <div role="alert" className="state-message state-error">
      <p>{children}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
