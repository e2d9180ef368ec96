import { renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { newIdempotencyKey, useSubmissionKeys } from "./idempotency";

describe("submission keys", () => {
  it("are random and safe to send as a header", () => {
    const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("repeat for a retried submission and change for a new one", () => {
    const { result } = renderHook(() => useSubmissionKeys());
    const first = result.current.keyFor({ title: "Milk" });
    expect(result.current.keyFor({ title: "Milk" })).toBe(first);
    const edited = result.current.keyFor({ title: "Oat milk" });
    expect(edited).not.toBe(first);
    result.current.done();
    expect(result.current.keyFor({ title: "Oat milk" })).not.toBe(edited);
  });
});
