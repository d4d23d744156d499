// HEAD wherever GET is: an app whose get() also registers a HEAD twin that replies without a body.
import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { TrackedResponse } from "./reply.js";

type Handler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

/**
 * The twin runs the very same handler (same authentication, checks and status); only the reply
 * helpers see `headOnly` and leave the body out. A route added later with get() cannot forget
 * its HEAD. Catch-all any() routes also answer a HEAD without a body, as HTTP requires.
 */
export function withHead(app: TemplatedApp): TemplatedApp {
  const headOnly =
    (handler: Handler): Handler =>
    (res, req) => {
      (res as TrackedResponse).headOnly = true;
      return handler(res, req);
    };
  const wrapped: TemplatedApp = new Proxy(app, {
    get(target, property) {
      if (property === "get")
        return (pattern: string, handler: Handler) => {
          target.head(pattern, headOnly(handler)).get(pattern, handler);
          return wrapped;
        };
      if (property === "any")
        return (pattern: string, handler: Handler) => {
          target.any(pattern, (res, req) => {
            if (req.getMethod() === "head") (res as TrackedResponse).headOnly = true;
            return handler(res, req);
          });
          return wrapped;
        };
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return wrapped;
}
