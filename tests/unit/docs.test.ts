// docs/api.md is the repository's copy of the contract, as implemented: it must name every op,
// every HTTP route the server registers, every error code with its status, and every
// environment variable the configuration reads. A feature added without its documentation
// fails here.

import type { TemplatedApp } from "uWebSockets.js";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Dispatcher } from "../../src/api/dispatch.js";
import { ops } from "../../src/api/ops/index.js";
import { ERROR_STATUS } from "../../src/errors.js";
import { registerHttpRoutes } from "../../src/http/routes.js";
import { registerWebRoutes } from "../../src/http/web.js";
import { registerWebSocket } from "../../src/ws/routes.js";

const root = new URL("../../", import.meta.url);
const api = readFileSync(new URL("docs/api.md", root), "utf8");
/** Table rows only: a name mentioned in passing does not count as documented. */
const rows = api.split("\n").filter((line) => line.startsWith("|"));

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every route the server's registration code registers, as `METHOD /path` (the catch-all 404 aside). */
function registeredRoutes(): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const app: TemplatedApp = new Proxy({} as TemplatedApp, {
    get: (_target, name: string) => (path: string) => {
      const method = name === "ws" ? "GET" : name === "del" ? "DELETE" : name.toUpperCase();
      routes.push({ method, path });
      return app;
    },
  });
  const deps = { dispatcher: {} as Dispatcher } as any;
  registerHttpRoutes(app, deps);
  registerWebSocket(app, deps);
  registerWebRoutes(app, { serveSourceMaps: true });
  return routes.filter((route) => !route.path.includes("*"));
}

/** The variables of envSchema in src/config.ts (read as text: the schema is not exported). */
function environmentVariables(): string[] {
  const source = readFileSync(new URL("src/config.ts", root), "utf8");
  const start = source.indexOf("const envSchema = z.object({");
  expect(start, "envSchema not found in src/config.ts").toBeGreaterThanOrEqual(0);
  const end = source.indexOf("\n});", start);
  const block = source.slice(start, end);
  return [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
}

describe("docs/api.md covers the implementation", () => {
  it("has a row for every op of the op table, and its rows name only real ops", () => {
    const missing = ops.map((op) => op.name).filter((name) => !rows.some((row) => row.startsWith(`| \`${name}\` |`)));
    expect(missing, "ops missing from the op table of docs/api.md").toEqual([]);
    const named = rows.flatMap((row) => /^\| `([a-z]+(?:\.[a-z]+)+)` \|/.exec(row)?.[1] ?? []);
    const known = new Set(ops.map((op) => op.name));
    expect(
      named.filter((name) => !known.has(name)),
      "op-table rows of docs/api.md that name no op",
    ).toEqual([]);
  });

  it("names every HTTP route the server registers as `METHOD /path` in a table", () => {
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThan(15);
    // A route of a plain method is named `METHOD /path`; one registered for any method (or
    // OPTIONS) needs only its path named, as the end of a `METHOD /path`.
    const plain = ["GET", "POST", "DELETE", "PUT", "PATCH"];
    const missing = routes
      .map(({ method, path }) => (plain.includes(method) ? `\`${method} ${path}\`` : ` ${path}\``))
      .filter((route) => !rows.some((row) => row.includes(route)));
    expect(missing, "routes missing from docs/api.md").toEqual([]);
    for (const op of ops) {
      if (!op.http) continue;
      const row = rows.find((line) => line.startsWith(`| \`${op.http!.method} ${op.http!.path}\` |`));
      expect(row, `${op.name}: no row of the HTTP route table starts with its route`).toBeDefined();
      expect(row, `${op.name}: its row gives another success status`).toContain(`\`${op.http.status} `);
    }
  });

  it("lists every error code with its status in the error table", () => {
    const missing = Object.entries(ERROR_STATUS)
      .filter(
        ([code, status]) =>
          !rows.some((row) => new RegExp(`^\\| \`${escapeRegExp(code)}\` \\| ${status} \\|`).test(row)),
      )
      .map(([code, status]) => `${code} ${status}`);
    expect(missing, "error codes missing from the error table of docs/api.md (or with another status)").toEqual([]);
  });

  it("documents every environment variable of src/config.ts in the configuration table", () => {
    const variables = environmentVariables();
    expect(variables.length).toBeGreaterThan(30);
    expect(variables).toContain("HOLD_TTL_MS");
    const missing = variables.filter((name) => !rows.some((row) => row.startsWith(`| \`${name}\` |`)));
    expect(missing, "variables missing from the configuration table of docs/api.md").toEqual([]);
  });

  it("is what the README sends readers to", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    expect(readme).toContain("(docs/api.md)");
  });
});
