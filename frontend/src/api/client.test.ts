import { describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError, type FetchLike } from "./client";

interface Call {
  url: string;
  method: string;
  authorization: string | undefined;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A stand-in server: `/auth/refresh` answers with `refreshAnswers` in turn; the rest accept one token. */
function fakeServer(options: { validToken: string; refreshAnswers: Response[] }) {
  const calls: Call[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, method: init?.method ?? "GET", authorization: headers.Authorization });
    if (url.endsWith("/auth/refresh")) {
      const answer = options.refreshAnswers.shift();
      return answer ?? json(401, { success: false, message: "Invalid refresh token" });
    }
    if (headers.Authorization !== `Bearer ${options.validToken}`) {
      return json(401, { success: false, message: "Token expired" });
    }
    return json(200, { success: true, data: { url } });
  };
  return { calls, fetchImpl };
}

describe("ApiClient refresh and retry", () => {
  it("refreshes once on a 401 and retries with the new token", async () => {
    const server = fakeServer({
      validToken: "fresh",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, "/api/v1");
    client.setToken("expired");

    const answer = await client.request<{ data: { url: string } }>("/tasks");

    expect(answer.data.url).toBe("/api/v1/tasks");
    expect(server.calls.map((call) => `${call.method} ${call.url} ${call.authorization ?? "-"}`)).toEqual([
      "GET /api/v1/tasks Bearer expired",
      "POST /api/v1/auth/refresh -",
      "GET /api/v1/tasks Bearer fresh",
    ]);
    expect(client.token).toBe("fresh");
  });

  it("shares one refresh between requests that fail together", async () => {
    const server = fakeServer({
      validToken: "fresh",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, "/api/v1");
    client.setToken("expired");

    await Promise.all([client.request("/tasks"), client.request("/tasks/stats"), client.request("/auth/me")]);

    expect(server.calls.filter((call) => call.url.endsWith("/auth/refresh"))).toHaveLength(1);
  });

  it("ends the session when the refresh is refused, without retrying", async () => {
    const server = fakeServer({ validToken: "never", refreshAnswers: [] });
    const client = new ApiClient(server.fetchImpl, "/api/v1");
    const expired = vi.fn();
    client.onSessionExpired = expired;
    client.setToken("expired");

    await expect(client.request("/tasks")).rejects.toMatchObject({ status: 401, message: "Token expired" });

    expect(expired).toHaveBeenCalledTimes(1);
    expect(server.calls).toHaveLength(2);
    expect(client.token).toBeNull();
  });

  it.each([
    ["rate limited", () => json(429, { success: false, message: "Too many requests, please try again later" })],
    ["a server error", () => json(503, { success: false, message: "Service temporarily unavailable" })],
  ])("keeps the session when the refresh is %s", async (_case, answer) => {
    const server = fakeServer({ validToken: "fresh", refreshAnswers: [answer()] });
    const client = new ApiClient(server.fetchImpl, "/api/v1");
    const expired = vi.fn();
    client.onSessionExpired = expired;
    client.setToken("expired");

    await expect(client.request("/tasks")).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("couldn't be renewed just now"),
    });
    expect(expired).not.toHaveBeenCalled();
    expect(await client.refresh()).toBe("ended"); // the fake has no more answers: a refusal
  });

  it("keeps the session when the network is down during the refresh", async () => {
    let calls = 0;
    const client = new ApiClient(async (url) => {
      calls += 1;
      if (url.endsWith("/auth/refresh")) throw new TypeError("Failed to fetch");
      return json(401, { success: false, message: "Token expired" });
    }, "/api/v1");
    const expired = vi.fn();
    client.onSessionExpired = expired;

    expect(await client.refresh()).toBe("unavailable");
    await expect(client.request("/tasks")).rejects.toMatchObject({ status: 503 });
    expect(expired).not.toHaveBeenCalled();
    expect(calls).toBe(3);
  });

  it("does not loop when the retried request is refused again", async () => {
    const server = fakeServer({
      validToken: "something-else",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, "/api/v1");
    client.setToken("expired");

    await expect(client.request("/tasks")).rejects.toBeInstanceOf(ApiError);
    expect(server.calls).toHaveLength(3);
  });

  it("never refreshes for public endpoints such as a failed login", async () => {
    const server = fakeServer({ validToken: "x", refreshAnswers: [] });
    const client = new ApiClient(server.fetchImpl, "/api/v1");

    await expect(client.request("/auth/login", { method: "POST", body: {}, anonymous: true })).rejects.toMatchObject({
      status: 401,
    });
    expect(server.calls).toHaveLength(1);
  });
});

describe("ApiClient errors", () => {
  it("reads the error envelope: message, field errors and request id", async () => {
    const client = new ApiClient(async () =>
      json(400, {
        success: false,
        message: "Validation failed",
        errors: [{ field: "title", message: "Title is too short" }],
        requestId: "req-1",
      }),
    );
    const error = await client.request("/tasks", { method: "POST", body: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      message: "Validation failed",
      errors: [{ field: "title", message: "Title is too short" }],
      requestId: "req-1",
    });
  });

  it("turns a network failure into a readable error", async () => {
    const client = new ApiClient(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(client.request("/tasks")).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining("Can't reach"),
    });
  });
});
