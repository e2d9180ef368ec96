import { describe, expect, it } from "vitest";

import openapi from "../../openapi.json";
import { LABEL_NAME_MAX, PROJECT_DESCRIPTION_MAX, PROJECT_NAME_MAX, memberFormSchema } from "./projectSchema";

const schemas = openapi.components.schemas;

describe("client rules match the server's", () => {
  it("for projects and labels", () => {
    expect(schemas.ProjectCreate.properties.name.maxLength).toBe(PROJECT_NAME_MAX);
    expect(schemas.ProjectCreate.properties.description.maxLength).toBe(PROJECT_DESCRIPTION_MAX);
    expect(schemas.LabelCreate.properties.name.maxLength).toBe(LABEL_NAME_MAX);
  });

  it("gives only the roles the server gives: ownership moves by a transfer", () => {
    expect(memberFormSchema.shape.role.options).toEqual(schemas.MemberAdd.properties.role.enum);
  });
});
