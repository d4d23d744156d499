// Typed HTTP calls: one method, `call(op, args)`, mapped onto the op's route of the contract.
import { ClientError } from "./errors.js";
import { type ArgsOf, type ErrorBody, type HttpOpName, httpRoutes, type ResultOf } from "./types.js";

export type TokenSource = string | undefined | (() => string | undefined | Promise<string | undefined>);

export interface HttpClientOptions {
  /** e.g. "http://127.0.0.1:8080" (no trailing slash needed); "" for the page's own origin. */
  baseUrl: string;
  /** The user JWT, or a function returning it (called per request). */
  token?: TokenSource;
  /** Bearer for admin ops. */
  adminToken?: string;
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Overrides the remembered queue token (Queue-Token header). */
  queueToken?: string;
  signal?: AbortSignal;
}

export async function resolveToken(source: TokenSource): Promise<string | undefined> {
  return typeof source === "function" ? source() : source;
}

export class HttpClient {
  /** The token of the last successful queue.check; sent as Queue-Token on every call. */
  queueToken: string | undefined;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((...a) => fetch(...a));
  }

  async call<N extends HttpOpName>(name: N, args: ArgsOf<N>, options: CallOptions = {}): Promise<ResultOf<N>> {
    const route = httpRoutes[name];
    const body: Record<string, unknown> = { ...(args as Record<string, unknown>) };
    const headers: Record<string, string> = {};
    // Path parameters come out of the args; the rest is the JSON body (POST only).
    const path = route.path.replace(/:([A-Za-z]+)/g, (_match, param: string) => {
      const value = body[param];
      delete body[param];
      return encodeURIComponent(String(value));
    });
    if (typeof body.idempotencyKey === "string") headers["idempotency-key"] = body.idempotencyKey;
    delete body.idempotencyKey;
    const queueToken = options.queueToken ?? (typeof body.token === "string" ? body.token : this.queueToken);
    delete body.token;
    if (queueToken) headers["queue-token"] = queueToken;
    const bearer = name.startsWith("admin.") ? this.options.adminToken : await resolveToken(this.options.token);
    if (bearer && name !== "dev.login") headers.authorization = `Bearer ${bearer}`;
    const init: RequestInit = { method: route.method, headers };
    if (options.signal) init.signal = options.signal;
    let query = "";
    if (route.method === "POST" || route.method === "PATCH") {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    } else {
      // What is left of the args of a GET are its query parameters.
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(body)) if (value !== undefined) search.set(key, String(value));
      if (search.size > 0) query = `?${search}`;
    }

    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path + query, init);
    } catch (error) {
      throw new ClientError("NETWORK", `${route.method} ${path} failed: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch {
      throw new ClientError("BAD_RESPONSE", `${route.method} ${path}: ${response.status} without a JSON body`);
    }
    if (!response.ok) {
      const error = (parsed as Partial<ErrorBody>).error;
      if (!error) throw new ClientError("BAD_RESPONSE", `${route.method} ${path}: ${response.status}`);
      const retryAfter = error.retryAfter ?? (Number(response.headers.get("retry-after")) || undefined);
      throw new ClientError(error.code, error.message, response.status, retryAfter);
    }
    if (name === "queue.check") this.queueToken = (parsed as ResultOf<"queue.check">).token;
    return parsed as ResultOf<N>;
  }
}
