import { z } from "zod";

// The server's rules (ProjectCreate, LabelCreate in the OpenAPI document); a test keeps these in step.
export const PROJECT_NAME_MAX = 100;
export const PROJECT_DESCRIPTION_MAX = 500;
export const LABEL_NAME_MAX = 50;

export const projectFormSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Give the project a name")
    .max(PROJECT_NAME_MAX, `A name is at most ${PROJECT_NAME_MAX} characters`),
  description: z
    .string()
    .max(PROJECT_DESCRIPTION_MAX, `A description is at most ${PROJECT_DESCRIPTION_MAX} characters`),
});

export type ProjectFormValues = z.infer<typeof projectFormSchema>;

export const memberFormSchema = z.object({
  email: z.string().trim().pipe(z.email("Enter a valid email address")),
  role: z.enum(["viewer", "editor", "admin"]),
});

export type MemberFormValues = z.infer<typeof memberFormSchema>;

export const labelFormSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Give the label a name")
    .max(LABEL_NAME_MAX, `A label's name is at most ${LABEL_NAME_MAX} characters`),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, "Pick a colour"),
});

export type LabelFormValues = z.infer<typeof labelFormSchema>;
