import type { FieldError } from "./types";

/** An answer in the API's error envelope, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;

  constructor(status: number, message: string, errors: FieldError[] = [], requestId?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.requestId = requestId;
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Public endpoints (login, register) send no token and never trigger a refresh. */
  anonymous?: boolean;
  signal?: AbortSignal;
}

interface TokenAnswer {
  data?: { token?: unknown };
}

const REFRESH_LOCK = "taskyard-refresh";

/**
 * renewed: a new access token. ended: the server refused the refresh token, so the session is
 * over. unavailable: no usable answer (offline, rate limited, server trouble); the session may
 * be fine, so it is kept for a later try.
 */
export type RefreshOutcome = "renewed" | "ended" | "unavailable";

const SESSION_UNAVAILABLE = "Your session couldn't be renewed just now. Try again in a moment.";

/**
 * Talks to /api/v1. The access token lives in this object only, never in storage; the refresh
 * token is an HttpOnly cookie the page can't read. A 401 triggers one refresh and one retry.
 */
export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<RefreshOutcome> | null = null;
  private readonly fetchImpl: FetchLike;
  private readonly baseUrl: string;
  /** Called when the session is over and can't be renewed: back to the login page. */
  onSessionExpired: () => void = () => {};

  constructor(fetchImpl: FetchLike = (input, init) => fetch(input, init), baseUrl = "/api/v1") {
    this.fetchImpl = fetchImpl;
    this.baseUrl = baseUrl;
  }

  get token(): string | null {
    return this.accessToken;
  }

  setToken(token: string | null): void {
    this.accessToken = token;
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.read<T>(await this.sendWithRefresh(path, options));
  }

  /** A file the API streams (an export), with the name the server gave it. */
  async download(path: string): Promise<{ blob: Blob; filename: string }> {
    const response = await this.sendWithRefresh(path, {});
    if (!response.ok) {
      return this.read<never>(response);
    }
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "download";
    return { blob: await response.blob(), filename };
  }

  private async sendWithRefresh(path: string, options: RequestOptions): Promise<Response> {
    const response = await this.send(path, options);
    if (response.status !== 401 || options.anonymous) {
      return response;
    }
    const outcome = await this.refresh();
    if (outcome === "renewed") {
      return this.send(path, options);
    }
    if (outcome === "unavailable") {
      throw new ApiError(503, SESSION_UNAVAILABLE);
    }
    this.onSessionExpired();
    return response;
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
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}/auth/refresh`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      return "unavailable";
    }
    if (response.status === 429 || response.status >= 500) {
      return "unavailable";
    }
    if (!response.ok) {
      this.accessToken = null;
      return "ended";
    }
    const answer = (await response.json()) as TokenAnswer;
    const token = answer.data?.token;
    this.accessToken = typeof token === "string" ? token : null;
    return this.accessToken !== null ? "renewed" : "ended";
  }

  private async send(path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (!options.anonymous && this.accessToken !== null) {
      headers.Authorization = `Bearer ${this.accessToken}`;
    }
    const init: RequestInit = {
      method: options.method ?? "GET",
      headers,
      credentials: "same-origin",
      // Revalidate with the server's ETag instead of trusting a stored copy.
      cache: "no-cache",
    };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
    }
    if (options.signal !== undefined) {
      init.signal = options.signal;
    }
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") {
        throw error;
      }
      throw new ApiError(0, "Can't reach the server. Check your connection and try again.");
    }
  }

  private async read<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (!response.ok) {
      const envelope = (body ?? {}) as { message?: unknown; errors?: unknown; requestId?: unknown };
      const message = typeof envelope.message === "string" ? envelope.message : `Request failed (${response.status})`;
      const errors = Array.isArray(envelope.errors) ? (envelope.errors as FieldError[]) : [];
      const requestId = typeof envelope.requestId === "string" ? envelope.requestId : undefined;
      throw new ApiError(response.status, message, errors, requestId);
    }
    return body as T;
  }
}

export const api = new ApiClient();
