import { describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError, type FetchLike, unwrap } from "./client";

const ORIGIN = "http://taskyard.test";
const NEW_TASK = { title: "Write once", description: "", status: "pending", priority: "medium" } as const;

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
  const fetchImpl: FetchLike = async (request) => {
    const url = new URL(request.url).pathname;
    const authorization = request.headers.get("Authorization") ?? undefined;
    calls.push({ url, method: request.method, authorization });
    if (url.endsWith("/auth/refresh")) {
      const answer = options.refreshAnswers.shift();
      return answer ?? json(401, { success: false, message: "Invalid refresh token" });
    }
    if (authorization !== `Bearer ${options.validToken}`) {
      return json(401, { success: false, message: "Token expired" });
    }
    return json(200, { success: true, data: { user: { name: url } } });
  };
  return { calls, fetchImpl };
}

describe("ApiClient refresh and retry", () => {
  it("refreshes once on a 401 and retries with the new token", async () => {
    const server = fakeServer({
      validToken: "fresh",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, ORIGIN);
    client.setToken("expired");

    const answer = await unwrap(client.http.GET("/api/v1/auth/me"));

    expect(answer.data.user.name).toBe("/api/v1/auth/me");
    expect(server.calls.map((call) => `${call.method} ${call.url} ${call.authorization ?? "-"}`)).toEqual([
      "GET /api/v1/auth/me Bearer expired",
      "POST /api/v1/auth/refresh -",
      "GET /api/v1/auth/me Bearer fresh",
    ]);
    expect(client.token).toBe("fresh");
  });

  it("shares one refresh between requests that fail together", async () => {
    const server = fakeServer({
      validToken: "fresh",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, ORIGIN);
    client.setToken("expired");

    await Promise.all([
      unwrap(client.http.GET("/api/v1/tasks")),
      unwrap(client.http.GET("/api/v1/tasks/stats")),
      unwrap(client.http.GET("/api/v1/auth/me")),
    ]);

    expect(server.calls.filter((call) => call.url.endsWith("/auth/refresh"))).toHaveLength(1);
  });

  it("ends the session when the refresh is refused, without retrying", async () => {
    const server = fakeServer({ validToken: "never", refreshAnswers: [] });
    const client = new ApiClient(server.fetchImpl, ORIGIN);
    const expired = vi.fn();
    client.onSessionExpired = expired;
    client.setToken("expired");

    await expect(unwrap(client.http.GET("/api/v1/tasks"))).rejects.toMatchObject({
      status: 401,
      message: "Token expired",
    });

    expect(expired).toHaveBeenCalledTimes(1);
    expect(server.calls).toHaveLength(2);
    expect(client.token).toBeNull();
  });

  it.each([
    ["rate limited", () => json(429, { success: false, message: "Too many requests, please try again later" })],
    ["a server error", () => json(503, { success: false, message: "Service temporarily unavailable" })],
  ])("keeps the session when the refresh is %s", async (_case, answer) => {
    const server = fakeServer({ validToken: "fresh", refreshAnswers: [answer()] });
    const client = new ApiClient(server.fetchImpl, ORIGIN);
    const expired = vi.fn();
    client.onSessionExpired = expired;
    client.setToken("expired");

    await expect(unwrap(client.http.GET("/api/v1/tasks"))).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining("couldn't be renewed just now"),
    });
    expect(expired).not.toHaveBeenCalled();
    expect(await client.refresh()).toBe("ended"); // the fake has no more answers: a refusal
  });

  it("keeps the session when the network is down during the refresh", async () => {
    let calls = 0;
    const client = new ApiClient(async (request) => {
      calls += 1;
      if (request.url.endsWith("/auth/refresh")) throw new TypeError("Failed to fetch");
      return json(401, { success: false, message: "Token expired" });
    }, ORIGIN);
    const expired = vi.fn();
    client.onSessionExpired = expired;

    expect(await client.refresh()).toBe("unavailable");
    await expect(unwrap(client.http.GET("/api/v1/tasks"))).rejects.toMatchObject({ status: 503 });
    expect(expired).not.toHaveBeenCalled();
    expect(calls).toBe(3);
  });

  it("does not loop when the retried request is refused again", async () => {
    const server = fakeServer({
      validToken: "something-else",
      refreshAnswers: [json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } })],
    });
    const client = new ApiClient(server.fetchImpl, ORIGIN);
    client.setToken("expired");

    await expect(unwrap(client.http.GET("/api/v1/tasks"))).rejects.toBeInstanceOf(ApiError);
    expect(server.calls).toHaveLength(3);
  });

  it("never refreshes for public endpoints such as a failed login", async () => {
    const server = fakeServer({ validToken: "x", refreshAnswers: [] });
    const client = new ApiClient(server.fetchImpl, ORIGIN);

    const login = client.anonymous.POST("/api/v1/auth/login", { body: { email: "a@example.com", password: "wrong" } });
    await expect(unwrap(login)).rejects.toMatchObject({ status: 401 });
    expect(server.calls).toHaveLength(1);
  });
});

describe("ApiClient errors", () => {
  it("reads the error envelope: message, field errors and request id", async () => {
    const client = new ApiClient(
      async () =>
        json(400, {
          success: false,
          message: "Validation failed",
          errors: [{ field: "title", message: "Title is too short" }],
          requestId: "req-1",
        }),
      ORIGIN,
    );
    const error = await unwrap(client.http.POST("/api/v1/tasks", { body: { ...NEW_TASK, title: "x" } })).catch(
      (caught: unknown) => caught,
    );
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
    }, ORIGIN);
    await expect(unwrap(client.http.GET("/api/v1/tasks"))).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining("Can't reach"),
    });
  });
});

describe("ApiClient requests", () => {
  it("sends what the OpenAPI document names: path parameters, query and JSON body", async () => {
    const seen: { method: string; url: string; type: string | null; body: string }[] = [];
    const client = new ApiClient(async (request) => {
      seen.push({
        method: request.method,
        url: request.url,
        type: request.headers.get("Content-Type"),
        body: await request.text(),
      });
      return json(200, { success: true, data: {} });
    }, ORIGIN);
    client.setToken("t");

    await unwrap(client.http.GET("/api/v1/tasks", { params: { query: { status: "pending", limit: 5 } } }));
    await unwrap(client.http.PATCH("/api/v1/tasks/{id}", { params: { path: { id: "a/b" } }, body: { title: "New" } }));

    expect(seen).toEqual([
      { method: "GET", url: `${ORIGIN}/api/v1/tasks?status=pending&limit=5`, type: null, body: "" },
      {
        method: "PATCH",
        url: `${ORIGIN}/api/v1/tasks/a%2Fb`,
        type: "application/json",
        body: JSON.stringify({ title: "New" }),
      },
    ]);
  });

  it("retries a write with its body after a refresh", async () => {
    const bodies: string[] = [];
    let token = "expired";
    const client = new ApiClient(async (request) => {
      if (request.url.endsWith("/auth/refresh")) {
        token = "fresh";
        return json(200, { success: true, data: { token: "fresh", refreshToken: "r2" } });
      }
      bodies.push(await request.text());
      return request.headers.get("Authorization") === `Bearer ${token}` && token === "fresh"
        ? json(201, { success: true, data: { title: "Write once" } })
        : json(401, { success: false, message: "Token expired" });
    }, ORIGIN);
    client.setToken("expired");

    const created = await unwrap(client.http.POST("/api/v1/tasks", { body: NEW_TASK }));

    expect(created.data.title).toBe("Write once");
    expect(bodies).toEqual([JSON.stringify(NEW_TASK), JSON.stringify(NEW_TASK)]);
  });
});
