// The proof-of-work check (ALTCHA, self-hosted) that login and register ask for after repeated
// failed sign-ins. Loaded only then: nobody else downloads it. The CSP-friendly build, with its
// stylesheet and its PBKDF2 worker served from this origin.
import type {} from "altcha/types/react";
import { useEffect, useRef, useState } from "react";

export const CHALLENGE_URL = "/api/v1/auth/challenge";

async function loadAltcha(): Promise<void> {
  const [worker] = await Promise.all([
    import("altcha/workers/pbkdf2?worker"),
    import("altcha/external"),
    import("altcha/altcha.css"),
  ]);
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new worker.default());
}

interface ChallengeWidgetProps {
  /** The solved payload to send as X-Altcha, or null while there is none (or it expired). */
  onChange: (payload: string | null) => void;
}

export function ChallengeWidget({ onChange }: ChallengeWidgetProps) {
  const widget = useRef<HTMLElement | null>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    let live = true;
    void loadAltcha().then(() => {
      if (live) setLoaded(true);
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    const element = widget.current;
    if (!loaded || element === null) return;
    const onVerified = (event: Event) => {
      onChange((event as CustomEvent<{ payload?: string }>).detail.payload ?? null);
    };
    const onState = (event: Event) => {
      if ((event as CustomEvent<{ state?: string }>).detail.state !== "verified") onChange(null);
    };
    element.addEventListener("verified", onVerified);
    element.addEventListener("statechange", onState);
    return () => {
      element.removeEventListener("verified", onVerified);
      element.removeEventListener("statechange", onState);
    };
  }, [loaded, onChange]);

  if (!loaded) return <p className="state-message">Loading the check…</p>;
  return (
    <div className="challenge" data-testid="challenge">
      <altcha-widget ref={widget} challenge={CHALLENGE_URL} auto="onload" />
    </div>
  );
}
