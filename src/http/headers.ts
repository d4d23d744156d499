// The protective and caching headers of every HTTP reply, as fixed lists per kind of reply.

/** Name/value pairs written in order; built once so a reply only loops over them. */
export type HeaderList = readonly (readonly [name: string, value: string])[];

// The page loads its script, style and icon from /assets and talks only to its own origin (fetch
// and the WebSocket: 'self' covers ws:/wss: of the same host in CSP Level 3). It has no inline
// script or style attribute (the seat grid sets --cols through CSSOM, which CSP allows), and its
// forms are handled in script, so nothing else is needed.
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// JSON, scripts, styles, metrics: nothing a browser renders as a document may load or frame anything.
const NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'";

const EVERY_REPLY: HeaderList = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
];

function list(policy: string, cacheControl: string): HeaderList {
  return [...EVERY_REPLY, ["content-security-policy", policy], ["cache-control", cacheControl]];
}

/** API replies (every /v1 answer, errors included), /healthz, /metrics: never stored by any cache. */
export const API_HEADERS = list(NOTHING_POLICY, "no-store");
/**
 * An API reply cached by its ETag (seats.layout): only the caller's own cache may keep it, and it
 * asks again each time (If-None-Match, answered 304 while the ETag holds).
 */
export const API_PRIVATE_REVALIDATE_HEADERS = list(NOTHING_POLICY, "private, no-cache");
/** The page: its name never changes, so caches must ask again each time (it names the current assets). */
export const PAGE_HEADERS = list(PAGE_POLICY, "no-cache");
/** Content-hashed assets: a new build has new names, so a copy may be kept for a year. */
export const IMMUTABLE_HEADERS = list(NOTHING_POLICY, "public, max-age=31536000, immutable");
/** Fixed names whose content changes between builds (/favicon.ico, /openapi.json, source maps). */
export const REVALIDATE_HEADERS = list(NOTHING_POLICY, "no-cache");
