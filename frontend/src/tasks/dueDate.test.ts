import { describe, expect, it } from "vitest";

import { dueLabel, relativeTime } from "./dueDate";

const NOW = new Date("2026-11-28T12:00:00.000Z");

describe("due dates", () => {
  it("reads as relative time", () => {
    expect(relativeTime("2026-11-30T12:00:00.000Z", NOW)).toBe("in 2 days");
    expect(relativeTime("2026-11-29T12:00:00.000Z", NOW)).toBe("tomorrow");
    expect(relativeTime("2026-11-28T15:00:00.000Z", NOW)).toBe("in 3 hours");
    expect(relativeTime("2026-11-25T12:00:00.000Z", NOW)).toBe("3 days ago");
  });

  it("says overdue for a past date on an open task", () => {
    expect(dueLabel("2026-11-25T12:00:00.000Z", "pending", NOW)).toEqual({
      text: "Overdue (3 days ago)",
      overdue: true,
    });
    expect(dueLabel("2026-11-30T12:00:00.000Z", "in-progress", NOW)).toEqual({ text: "Due in 2 days", overdue: false });
  });

  it("never calls finished work overdue", () => {
    expect(dueLabel("2026-11-25T12:00:00.000Z", "completed", NOW)?.overdue).toBe(false);
  });

  it("has nothing to say without a date", () => {
    expect(dueLabel(null, "pending", NOW)).toBeNull();
  });
});
