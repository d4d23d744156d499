// The request head limit (request line and headers, MAX_REQUEST_HEAD_BYTES) on the Node 20 build,
// which has none of its own for a head that arrives in one read.
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior } from "uWebSockets.js";

type Handler = (res: HttpResponse, req: HttpRequest, ...rest: never[]) => unknown;

// The status, body and close of upstream uWS's own answer, so both builds look alike.
const STATUS = "431 Request Header Fields Too Large";
const BODY = "<h1>Request Header Fields Too Large</h1><hr><i>uWebSockets/20 Server</i>";

/** The size of the head as sent: request line, each header line, the blank line (HTTP/1.1, CRLF). */
export function requestHeadBytes(req: HttpRequest): number {
  const query = req.getQuery();
  let bytes = req.getMethod().length + 1 + req.getUrl().length + (query ? query.length + 1 : 0) + 11 + 2;
  req.forEach((name, value) => {
    bytes += name.length + value.length + 4;
  });
  return bytes;
}

/**
 * Upstream uWS v20.57 answers a head over UWS_HTTP_MAX_HEADERS_SIZE (set by uws.ts) with 431 and
 * closes the connection before any route runs. uWS v20.30 only refuses a head over 4 KiB that
 * arrives in several reads (it closes without a reply) and passes any head that arrives in one read
 * to the routes. This wrapper gives every route (and the WebSocket upgrade) the upstream check, so
 * a long head gets the same answer on both builds. Only the Node 20 build needs it.
 */
export function withHeadLimit(app: TemplatedApp, maxBytes: number): TemplatedApp {
  const limited =
    (handler: Handler): Handler =>
    (res, req, ...rest) => {
      if (requestHeadBytes(req) > maxBytes) {
        res.cork(() => res.writeStatus(STATUS).end(BODY, true));
        return;
      }
      return handler(res, req, ...rest);
    };
  const routes = new Set(["get", "post", "patch", "put", "del", "head", "options", "any", "connect", "trace"]);
  const wrapped: TemplatedApp = new Proxy(app, {
    get(target, property) {
      if (typeof property === "string" && routes.has(property)) {
        return (pattern: string, handler: Handler) => {
          (target[property as "get"] as (p: string, h: Handler) => unknown).call(target, pattern, limited(handler));
          return wrapped;
        };
      }
      if (property === "ws") {
        return (pattern: string, behavior: WebSocketBehavior<unknown>) => {
          const upgrade = behavior.upgrade as Handler | undefined;
          type Upgrade = WebSocketBehavior<unknown>["upgrade"];
          target.ws(pattern, upgrade ? { ...behavior, upgrade: limited(upgrade) as Upgrade } : behavior);
          return wrapped;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return wrapped;
}
