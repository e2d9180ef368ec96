import { describe, expect, it } from "vitest";

import openapi from "../../openapi.json";
import { TOKEN_SCOPES } from "../api/types";
import { TOKEN_NAME_MAX } from "./ApiTokens";

const schemas = openapi.components.schemas;

describe("client rules match the server's", () => {
  it("for API tokens", () => {
    expect(schemas.TokenCreate.properties.name.maxLength).toBe(TOKEN_NAME_MAX);
    expect([...TOKEN_SCOPES]).toEqual(schemas.TokenScope.enum);
  });
});
