import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/client";
import { TaskForm } from "./TaskForm";
import { EMPTY_TASK, type TaskFormValues } from "./taskSchema";

function renderForm(onSubmit = vi.fn<(values: TaskFormValues) => Promise<void>>().mockResolvedValue(undefined)) {
  render(<TaskForm initial={EMPTY_TASK} submitLabel="Create task" onSubmit={onSubmit} onCancel={vi.fn()} />);
  return onSubmit;
}

async function fillTitle(title: string) {
  const input = screen.getByLabelText("Title");
  await userEvent.clear(input);
  if (title) await userEvent.type(input, title);
}

describe("TaskForm validation", () => {
  it("refuses a title under 3 characters once trimmed, and sends nothing", async () => {
    const onSubmit = renderForm();
    await fillTitle("  ab  ");
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByText("Title must be at least 3 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Title")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Title")).toHaveAccessibleDescription("Title must be at least 3 characters");
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("refuses a title over 100 characters", async () => {
    const onSubmit = renderForm();
    await userEvent.click(screen.getByLabelText("Title"));
    await userEvent.paste("x".repeat(101));
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByText("Title must be at most 100 characters")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("refuses a description over 500 characters", async () => {
    const onSubmit = renderForm();
    await fillTitle("Long story");
    await userEvent.click(screen.getByLabelText("Description"));
    await userEvent.paste("y".repeat(501));
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByText("Description must be at most 500 characters")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("refuses an assignee that isn't an email address", async () => {
    const onSubmit = renderForm();
    await fillTitle("Hand it over");
    await userEvent.type(screen.getByLabelText("Assign to (email)"), "not-an-email");
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByText("Enter a valid email address")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("sends valid values, with the title trimmed", async () => {
    const onSubmit = renderForm();
    await fillTitle("  Water the plants  ");
    await userEvent.selectOptions(screen.getByLabelText("Priority"), "high");
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0]?.[0]).toMatchObject({
      title: "Water the plants",
      priority: "high",
      status: "pending",
      assigneeEmail: "",
    });
  });

  it("puts the server's field errors under their fields", async () => {
    const onSubmit = vi
      .fn<(values: TaskFormValues) => Promise<void>>()
      .mockRejectedValue(
        new ApiError(400, "Validation failed", [{ field: "assigneeEmail", message: "No active user with that email" }]),
      );
    renderForm(onSubmit);
    await fillTitle("For a ghost");
    await userEvent.type(screen.getByLabelText("Assign to (email)"), "ghost@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByText("No active user with that email")).toBeInTheDocument();
    expect(screen.getByLabelText("Assign to (email)")).toHaveAttribute("aria-invalid", "true");
  });

  it("shows a refusal that names no field above the form", async () => {
    const onSubmit = vi
      .fn<(values: TaskFormValues) => Promise<void>>()
      .mockRejectedValue(new ApiError(429, "Too many requests, please try again later"));
    renderForm(onSubmit);
    await fillTitle("Busy day");
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many requests, please try again later");
  });
});
