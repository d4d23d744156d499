// The demo page (/ and /assets/:file, built into dist/web by `npm run build`) and /openapi.json.

import type { TemplatedApp } from "uWebSockets.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildOpenApi } from "../api/openapi.js";
import { ops } from "../api/ops/index.js";
import { ApiError, errorBody } from "../errors.js";
import { sendJson, sendText, type TrackedResponse } from "./reply.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

/** dist/src/http/web.js → dist/web; none when the page was not built. */
function webDir(): string | undefined {
  const dir = fileURLToPath(new URL("../../web/", import.meta.url));
  return existsSync(join(dir, "index.html")) ? dir : undefined;
}

function packageVersion(): string {
  for (const relative of ["../../../package.json", "../../package.json"]) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "0.0.0";
}

export function registerWebRoutes(app: TemplatedApp): void {
  const files = new Map<string, string>();
  const dir = webDir();
  if (dir)
    for (const name of readdirSync(dir))
      if (TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name), "utf8"));
  const openApi = JSON.stringify(buildOpenApi(ops, packageVersion()));

  const notFound = (res: TrackedResponse, what: string) =>
    sendJson(res, 404, errorBody(new ApiError("NOT_FOUND", what)));

  app.get("/", (res: TrackedResponse) => {
    const page = files.get("index.html");
    if (page === undefined) return notFound(res, "the page is not built: run npm run build");
    sendText(res, 200, TYPES[".html"]!, page);
  });

  app.get("/assets/:file", (res: TrackedResponse, req) => {
    const name = req.getParameter(0) ?? "";
    const body = name === "index.html" ? undefined : files.get(name);
    if (body === undefined) return notFound(res, `no asset ${name}`);
    sendText(res, 200, TYPES[extname(name)]!, body);
  });

  app.get("/openapi.json", (res: TrackedResponse) => sendText(res, 200, "application/json", openApi));
}
