// Writes a JSON reply on a uWS response (corked, once, never after an abort).

import type { HttpResponse } from "uWebSockets.js";
import { STATUS_CODES } from "node:http";
import { encodeOnce } from "../api/immutable.js";
import { retryAfterOf } from "../errors.js";

const statusLines = new Map<number, string>();

export function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? ""}`.trim();
    statusLines.set(status, line);
  }
  return line;
}

/** A response that remembers whether the client went away (uWS forbids touching it then). */
export interface TrackedResponse extends HttpResponse {
  done?: boolean;
}

export function sendJson(
  res: TrackedResponse,
  status: number,
  body: unknown,
  options: { requestId?: string; closeConnection?: boolean } = {},
): void {
  if (res.done) return;
  res.done = true;
  const json = encodeOnce(body, "json", JSON.stringify);
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader("content-type", "application/json");
    if (options.requestId) res.writeHeader("x-request-id", options.requestId);
    const retryAfter = retryAfterOf(body);
    if (retryAfter !== undefined) res.writeHeader("retry-after", String(retryAfter));
    res.end(json, options.closeConnection ?? false);
  });
}

export function sendText(res: TrackedResponse, status: number, contentType: string, text: string): void {
  if (res.done) return;
  res.done = true;
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader("content-type", contentType).end(text);
  });
}
