// One Idempotency-Key per form submission: a retry of the same submission (after a network
// failure, or a second click) sends the same key, so the server answers it once; a submission
// with other values is a new one.
import { useRef } from "react";

/** A random key; `crypto.randomUUID` exists only on secure origins, getRandomValues everywhere. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export interface SubmissionKeys {
  /** The key for a submission of `body`: the same as last time if `body` is unchanged. */
  keyFor: (body: unknown) => string;
  /** The submission went through: the next one is new. */
  done: () => void;
}

export function useSubmissionKeys(): SubmissionKeys {
  const last = useRef<{ body: string; key: string } | null>(null);
  return {
    keyFor: (body) => {
      const json = JSON.stringify(body);
      if (last.current?.body !== json) last.current = { body: json, key: newIdempotencyKey() };
      return last.current.key;
    },
    done: () => {
      last.current = null;
    },
  };
}
