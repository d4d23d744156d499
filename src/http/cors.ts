// CORS for the origins in CORS_ORIGINS. The API is same-origin unless that list names others; with
// it empty nothing here runs (the app is not wrapped, and WebSocket upgrades skip the Origin check).
import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import { ApiError, errorBody } from "../errors.js";
import { API_HEADERS, type HeaderList } from "./headers.js";
import { sendJson, statusLine, type TrackedResponse } from "./reply.js";

export const CORS_ALLOWED_METHODS = "GET, HEAD, POST, PATCH, DELETE";
export const CORS_ALLOWED_HEADERS =
  "authorization, content-type, idempotency-key, if-none-match, queue-token, x-request-id";
export const CORS_EXPOSED_HEADERS = "x-request-id, retry-after, etag";
/** How long a browser may reuse a preflight's answer (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_SECONDS = 600;

type Handler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

/** Every reply says it depends on Origin, so a shared cache never hands one origin's copy to another. */
const VARY_ONLY: HeaderList = [["vary", "Origin"]];

const REGISTRATIONS = new Set(["get", "head", "post", "del", "put", "patch", "any"]);

/**
 * Registers the preflight route and returns an app whose handlers mark their response with the
 * CORS headers of the request's Origin (written by reply.ts): `Access-Control-Allow-Origin` for a
 * listed origin, and `Vary: Origin` on every reply.
 */
export function withCors(app: TemplatedApp, origins: readonly string[]): TemplatedApp {
  if (origins.length === 0) return app;
  const replyHeaders = new Map<string, HeaderList>();
  const preflightHeaders = new Map<string, HeaderList>();
  for (const origin of origins) {
    const allow: HeaderList = [
      ["access-control-allow-origin", origin],
      ["vary", "Origin"],
    ];
    replyHeaders.set(origin, [...allow, ["access-control-expose-headers", CORS_EXPOSED_HEADERS]]);
    preflightHeaders.set(origin, [
      ...allow,
      ["access-control-allow-methods", CORS_ALLOWED_METHODS],
      ["access-control-allow-headers", CORS_ALLOWED_HEADERS],
      ["access-control-max-age", String(CORS_MAX_AGE_SECONDS)],
    ]);
  }

  // Registered before any route, so a preflight never reaches the catch-all 404.
  app.options("/*", (res: TrackedResponse, req) => {
    const origin = req.getHeader("origin");
    if (origin === "" || req.getHeader("access-control-request-method") === "") {
      // Not a preflight: answered like any other unknown route.
      req.setYield(true);
      return;
    }
    const headers = preflightHeaders.get(origin);
    if (headers === undefined) {
      res.cors = VARY_ONLY;
      const error = new ApiError("FORBIDDEN", `origin ${origin} is not in CORS_ORIGINS`);
      return sendJson(res, error.status, errorBody(error));
    }
    res.cork(() => {
      res.writeStatus(statusLine(204));
      for (const [name, value] of [...API_HEADERS, ...headers]) res.writeHeader(name, value);
      res.endWithoutBody();
    });
  });

  const mark =
    (handler: Handler): Handler =>
    (res, req) => {
      (res as TrackedResponse).cors = replyHeaders.get(req.getHeader("origin")) ?? VARY_ONLY;
      return handler(res, req);
    };
  const wrapped: TemplatedApp = new Proxy(app, {
    get(target, property) {
      if (typeof property === "string" && REGISTRATIONS.has(property)) {
        const register = Reflect.get(target, property) as (pattern: string, handler: Handler) => TemplatedApp;
        return (pattern: string, handler: Handler) => {
          register.call(target, pattern, mark(handler));
          return wrapped;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return wrapped;
}

/**
 * May a WebSocket upgrade with this Origin go ahead (only asked when CORS_ORIGINS is set)? Yes
 * without an Origin (not a browser), from a listed origin, and from a page of the server's own
 * host (the Host the request names, whatever the scheme: TLS ends at the proxy).
 */
export function upgradeOriginAllowed(origin: string, host: string, origins: readonly string[]): boolean {
  if (origin === "" || origins.includes(origin)) return true;
  try {
    return host !== "" && new URL(origin).host === host.toLowerCase();
  } catch {
    // "null" (sandboxed frames, file: pages) and anything else that is not an origin.
    return false;
  }
}
