import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { Pagination } from "./Pagination";

describe("Pagination", () => {
  it("shows where you are and moves both ways", async () => {
    const onPage = vi.fn();
    render(<Pagination page={2} pages={5} onPage={onPage} />);
    expect(screen.getByText("Page 2 of 5")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: /prev/i }));
    await userEvent.click(screen.getByRole("button", { name: /next/i }));
    expect(onPage.mock.calls).toEqual([[1], [3]]);
  });

  it("can't go before the first page", () => {
    render(<Pagination page={1} pages={3} onPage={vi.fn()} />);
    expect(screen.getByRole("button", { name: /prev/i })).toBeDisabled();
    expect(screen.getByRole("button", { name: /next/i })).toBeEnabled();
  });

  it("can't go past the last page", () => {
    render(<Pagination page={3} pages={3} onPage={vi.fn()} />);
    expect(screen.getByRole("button", { name: /next/i })).toBeDisabled();
    expect(screen.getByRole("button", { name: /prev/i })).toBeEnabled();
  });

  it("reads an empty result as one page with nowhere to go", () => {
    render(<Pagination page={1} pages={0} onPage={vi.fn()} />);
    expect(screen.getByText("Page 1 of 1")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /prev/i })).toBeDisabled();
    expect(screen.getByRole("button", { name: /next/i })).toBeDisabled();
  });

  it("holds still while a page is loading", () => {
    render(<Pagination page={2} pages={3} onPage={vi.fn()} busy />);
    expect(screen.getByRole("button", { name: /prev/i })).toBeDisabled();
    expect(screen.getByRole("button", { name: /next/i })).toBeDisabled();
  });

  it("is a labelled navigation landmark", () => {
    render(<Pagination page={1} pages={2} onPage={vi.fn()} label="Task pages" />);
    expect(screen.getByRole("navigation", { name: "Task pages" })).toBeInTheDocument();
  });
});
