import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema";

type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];
export type FieldError = components["schemas"]["FieldError"];

/** An answer in the API's error envelope, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;
  /** What the error carries for the client to act on: a 412's current task, say. */
  readonly data: unknown;

  constructor(status: number, message: string, errors: FieldError[] = [], requestId?: string, data?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.requestId = requestId;
    this.data = data;
  }
}

export type FetchLike = (request: Request) => Promise<Response>;

const REFRESH_LOCK = "taskyard-refresh";

/**
 * renewed: a new access token. ended: the server refused the refresh token, so the session is
 * over. unavailable: no usable answer (offline, rate limited, server trouble); the session may
 * be fine, so it is kept for a later try.
 */
export type RefreshOutcome = "renewed" | "ended" | "unavailable";

const SESSION_UNAVAILABLE = "Your session couldn't be renewed just now. Try again in a moment.";
const UNREACHABLE = "Can't reach the server. Check your connection and try again.";

/** What openapi-fetch answers: the documented success body, or the documented error body. */
interface Outcome<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

function errorOf(status: number, body: unknown): ApiError {
  const envelope = (typeof body === "object" && body !== null ? body : {}) as Partial<ErrorEnvelope>;
  const message = typeof envelope.message === "string" ? envelope.message : `Request failed (${String(status)})`;
  const errors = Array.isArray(envelope.errors) ? envelope.errors : [];
  const requestId = typeof envelope.requestId === "string" ? envelope.requestId : undefined;
  return new ApiError(status, message, errors, requestId, (envelope as { data?: unknown }).data);
}

/** The success body, typed by the OpenAPI document; anything else becomes an `ApiError`. */
export async function unwrap<Data>(pending: Promise<Outcome<Data>>): Promise<Data> {
  const outcome = await pending;
  if (outcome.error !== undefined || !outcome.response.ok) {
    throw errorOf(outcome.response.status, outcome.error);
  }
  return outcome.data as Data;
}

/**
 * Talks to /api/v1 through openapi-fetch, so every path, parameter and body is checked against
 * the generated `schema.ts`. The access token lives in this object only, never in storage; the
 * refresh token is an HttpOnly cookie the page can't read. On `http`, a 401 triggers one refresh
 * and one retry; `anonymous` (login, register) sends no token and never refreshes.
 */
export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<RefreshOutcome> | null = null;
  private readonly fetchImpl: FetchLike;
  readonly http: Client<paths>;
  readonly anonymous: Client<paths>;
  /** Called when the session is over and can't be renewed: back to the login page. */
  onSessionExpired: () => void = () => {};

  constructor(fetchImpl: FetchLike = (request) => fetch(request), origin = globalThis.location.origin) {
    this.fetchImpl = fetchImpl;
    const common = {
      baseUrl: origin,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      // Revalidate with the server's ETag instead of trusting a stored copy.
      cache: "no-cache",
    } as const;
    this.http = createClient<paths>({ ...common, fetch: (request) => this.sendWithSession(request) });
    this.anonymous = createClient<paths>({ ...common, fetch: (request) => this.send(request) });
  }

  get token(): string | null {
    return this.accessToken;
  }

  setToken(token: string | null): void {
    this.accessToken = token;
  }

  private async sendWithSession(request: Request): Promise<Response> {
    const retry = request.clone();
    const response = await this.send(this.authorized(request));
    if (response.status !== 401) {
      return response;
    }
    const outcome = await this.refresh();
    if (outcome === "renewed") {
      return this.send(this.authorized(retry));
    }
    if (outcome === "unavailable") {
      throw new ApiError(503, SESSION_UNAVAILABLE);
    }
    this.onSessionExpired();
    return response;
  }

  private authorized(request: Request): Request {
    if (this.accessToken !== null) {
      request.headers.set("Authorization", `Bearer ${this.accessToken}`);
    }
    return request;
  }

  /**
   * Swaps the refresh cookie for a new access token. Concurrent callers share one attempt, and
   * tabs take turns through a Web Lock, because a refresh token presented twice ends the session.
   */
  refresh(): Promise<RefreshOutcome> {
    if (this.refreshing === null) {
      this.refreshing = this.withRefreshLock(() => this.refreshOnce()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async withRefreshLock(work: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (locks === undefined) {
      return work();
    }
    return locks.request(REFRESH_LOCK, work);
  }

  private async refreshOnce(): Promise<RefreshOutcome> {
    let token: string | undefined;
    try {
      const { data, response } = await this.anonymous.POST("/api/v1/auth/refresh");
      if (response.status === 429 || response.status >= 500) {
        return "unavailable";
      }
      token = data?.data.token;
    } catch {
      return "unavailable";
    }
    this.accessToken = token ?? null;
    return this.accessToken !== null ? "renewed" : "ended";
  }

  private async send(request: Request): Promise<Response> {
    try {
      return await this.fetchImpl(request);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") {
        throw error;
      }
      throw new ApiError(0, UNREACHABLE);
    }
  }
}

export const api = new ApiClient();
