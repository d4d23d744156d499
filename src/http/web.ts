// The demo page (/, /favicon.ico and /assets/:file, built into dist/web by `npm run build`), /openapi.json
// and /asyncapi.json.

import type { TemplatedApp } from "uWebSockets.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { buildAsyncApi } from "../api/asyncapi.js";
import { buildOpenApi } from "../api/openapi.js";
import { ops } from "../api/ops/index.js";
import { ApiError, errorBody } from "../errors.js";
import { projectPath } from "../projectPath.js";
import { IMMUTABLE_HEADERS, PAGE_HEADERS, REVALIDATE_HEADERS } from "./headers.js";
import { sendJson, sendText, type TrackedResponse } from "./reply.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

export interface WebOptions {
  /** Source maps give the original source away: served in development only (404 in production). */
  serveSourceMaps: boolean;
}

/** dist/web, built by `npm run build`; none when the page was not built. */
function webDir(): string | undefined {
  const dir = projectPath("dist", "web");
  return existsSync(join(dir, "index.html")) ? dir : undefined;
}

/** The files of `dir` that have a known type, by name, as text. */
function readTextFiles(dir: string, keep: (name: string) => boolean): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir))
    if (TYPES[extname(name)] && keep(name)) files.set(name, readFileSync(join(dir, name), "utf8"));
  return files;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(projectPath("package.json"), "utf8")) as { version: string }).version;
}

export function registerWebRoutes(app: TemplatedApp, options: WebOptions): void {
  const dir = webDir();
  const built = dir === undefined ? new Map<string, string>() : readTextFiles(dir, () => true);
  const page = built.get("index.html");
  const favicon = built.get("favicon.svg");
  // build.mjs puts only content-hashed files (and their maps) in assets/.
  const assets =
    dir === undefined
      ? new Map<string, string>()
      : readTextFiles(join(dir, "assets"), (name) => options.serveSourceMaps || extname(name) !== ".map");
  const openApi = JSON.stringify(buildOpenApi(ops, packageVersion()));
  const asyncApi = JSON.stringify(buildAsyncApi(ops, packageVersion()));

  const notFound = (res: TrackedResponse, what: string) =>
    sendJson(res, 404, errorBody(new ApiError("NOT_FOUND", what)));

  app.get("/", (res: TrackedResponse) => {
    if (page === undefined) return notFound(res, "the page is not built: run npm run build");
    sendText(res, 200, TYPES[".html"]!, page, PAGE_HEADERS);
  });

  app.get("/favicon.ico", (res: TrackedResponse) => {
    if (favicon === undefined) return notFound(res, "the page is not built: run npm run build");
    sendText(res, 200, TYPES[".svg"]!, favicon, REVALIDATE_HEADERS);
  });

  app.get("/assets/:file", (res: TrackedResponse, req) => {
    const name = req.getParameter(0) ?? "";
    const body = assets.get(name);
    if (body === undefined) return notFound(res, `no asset ${name}`);
    // A map's name follows its script's hash, not its own content: ask again rather than keep it.
    const headers = extname(name) === ".map" ? REVALIDATE_HEADERS : IMMUTABLE_HEADERS;
    sendText(res, 200, TYPES[extname(name)]!, body, headers);
  });

  app.get("/openapi.json", (res: TrackedResponse) =>
    sendText(res, 200, "application/json", openApi, REVALIDATE_HEADERS),
  );

  app.get("/asyncapi.json", (res: TrackedResponse) =>
    sendText(res, 200, "application/json", asyncApi, REVALIDATE_HEADERS),
  );
}
