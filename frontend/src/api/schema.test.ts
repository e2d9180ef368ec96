// @vitest-environment node
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("generated API types", () => {
  it("are what openapi-typescript makes of openapi.json today", () => {
    const scratch = mkdtempSync(join(tmpdir(), "taskyard-schema-"));
    try {
      const generated = join(scratch, "schema.ts");
      execFileSync(
        join(root, "node_modules", ".bin", "openapi-typescript"),
        [join(root, "openapi.json"), "-o", generated],
        {
          stdio: "pipe",
        },
      );
      expect(readFileSync(join(root, "src", "api", "schema.ts"), "utf8")).toBe(readFileSync(generated, "utf8"));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
