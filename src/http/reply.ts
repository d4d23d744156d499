// Writes a JSON reply on a uWS response (corked, once, never after an abort).

import type { HttpResponse } from "uWebSockets.js";
import { STATUS_CODES } from "node:http";
import { retryAfterOf } from "../errors.js";
import { encodeOnce } from "../immutable.js";
import { API_HEADERS, type HeaderList } from "./headers.js";

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
  /** A HEAD request: the reply has the GET's status and headers but no body (see head.ts). */
  headOnly?: boolean;
  /** With CORS_ORIGINS set: this reply's CORS headers (Vary: Origin at least; see cors.ts). */
  cors?: HeaderList;
}

function writeHeaders(res: TrackedResponse, status: number, contentType: string, headers: HeaderList): void {
  res.writeStatus(statusLine(status)).writeHeader("content-type", contentType);
  for (const [name, value] of headers) res.writeHeader(name, value);
  if (res.cors) for (const [name, value] of res.cors) res.writeHeader(name, value);
}

/** Ends with `body`, or for HEAD with only the Content-Length the body would have had. */
function endWith(res: TrackedResponse, body: string, closeConnection = false): void {
  if (!res.headOnly) {
    res.end(body, closeConnection);
    return;
  }
  // This uWS build leaves the response open when endWithoutBody() gets a length or a close flag
  // (uNetworking/uWebSockets#1855), so the length is a plain header. HEAD never carries a body
  // to refuse, so no HEAD reply asks to close the connection.
  res.writeHeader("content-length", String(Buffer.byteLength(body)));
  res.endWithoutBody();
}

export function sendJson(
  res: TrackedResponse,
  status: number,
  body: unknown,
  options: { requestId?: string; closeConnection?: boolean; headers?: HeaderList; base?: HeaderList } = {},
): void {
  if (res.done) return;
  res.done = true;
  const json = encodeOnce(body, "json", JSON.stringify);
  res.cork(() => {
    writeHeaders(res, status, "application/json", options.base ?? API_HEADERS);
    // Every 429 and 503 says when to retry, whichever path made it (API.md).
    if (status === 429 || status === 503) {
      const retryAfter = retryAfterOf(body);
      if (retryAfter !== undefined) res.writeHeader("retry-after", String(retryAfter));
    }
    if (options.requestId) res.writeHeader("x-request-id", options.requestId);
    if (options.headers) for (const [name, value] of options.headers) res.writeHeader(name, value);
    endWith(res, json, options.closeConnection);
  });
}

export function sendText(
  res: TrackedResponse,
  status: number,
  contentType: string,
  text: string,
  headers: HeaderList = API_HEADERS,
): void {
  if (res.done) return;
  res.done = true;
  res.cork(() => {
    writeHeaders(res, status, contentType, headers);
    endWith(res, text);
  });
}

/** 304 Not Modified: the caller's copy named by `headers`' ETag is current; no body. */
export function sendNotModified(res: TrackedResponse, headers: HeaderList, requestId: string): void {
  if (res.done) return;
  res.done = true;
  res.cork(() => {
    res.writeStatus(statusLine(304));
    for (const [name, value] of headers) res.writeHeader(name, value);
    if (res.cors) for (const [name, value] of res.cors) res.writeHeader(name, value);
    res.writeHeader("x-request-id", requestId);
    res.endWithoutBody();
  });
}
