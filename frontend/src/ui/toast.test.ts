import { describe, expect, it } from "vitest";

import { MAX_TOASTS, withToast } from "./toast";

describe("withToast", () => {
  it("keeps at most three, dropping the oldest", () => {
    let toasts = withToast([], "one", "success", 1);
    for (const [id, message] of [
      [2, "two"],
      [3, "three"],
      [4, "four"],
    ] as const) {
      toasts = withToast(toasts, message, "success", id);
    }
    expect(toasts).toHaveLength(MAX_TOASTS);
    expect(toasts.map((toast) => toast.message)).toEqual(["two", "three", "four"]);
  });

  it("merges a repeat into one toast with a count and a fresh id", () => {
    let toasts = withToast([], "Saved", "success", 1);
    toasts = withToast(toasts, "Failed", "error", 2);
    toasts = withToast(toasts, "Saved", "success", 3);
    expect(toasts.map((toast) => [toast.message, toast.count, toast.id])).toEqual([
      ["Failed", 1, 2],
      ["Saved", 2, 3],
    ]);
  });

  it("keeps the same words of another kind apart", () => {
    const toasts = withToast(withToast([], "Done", "success", 1), "Done", "info", 2);
    expect(toasts).toHaveLength(2);
  });
});
