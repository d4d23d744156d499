// GET /metrics: the Prometheus text, behind METRICS_TOKEN when one is set, rendered at most once
// a second (rendering walks every metric; a scrape flood must not make the server do it per request).
import type { HttpRequest } from "uWebSockets.js";
import { createAdminAuthenticator } from "../auth/admin.js";
import { bearerToken } from "../auth/users.js";
import { ApiError, errorBody } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { sendJson, sendText, type TrackedResponse } from "./reply.js";

const RENDER_INTERVAL_MS = 1000;

export function metricsRoute(
  metrics: Metrics,
  metricsToken: string | undefined,
): (res: TrackedResponse, req: HttpRequest) => void {
  // The same constant-time comparison as the admin token.
  const authorize = metricsToken === undefined ? undefined : createAdminAuthenticator(metricsToken);
  let rendered: { at: number; text: Promise<string> } | undefined;
  return (res, req) => {
    res.onAborted(() => {
      res.done = true;
    });
    if (authorize !== undefined) {
      try {
        authorize(bearerToken(req.getHeader("authorization")));
      } catch {
        const error = new ApiError("UNAUTHENTICATED", "metrics need Authorization: Bearer <METRICS_TOKEN>");
        return sendJson(res, error.status, errorBody(error));
      }
    }
    const now = Date.now();
    if (rendered === undefined || now - rendered.at >= RENDER_INTERVAL_MS) {
      rendered = { at: now, text: metrics.registry.metrics() };
    }
    const text = rendered.text;
    text.then(
      (body) => sendText(res, 200, metrics.registry.contentType, body),
      () => {
        if (rendered?.text === text) rendered = undefined;
        sendJson(res, 500, errorBody(new ApiError("INTERNAL", "metrics unavailable")));
      },
    );
  };
}
