// Start-up and shutdown of the real process: configuration errors, the uWS native check,
// the demo catalog, generated secrets, SIGTERM.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { uwsChoice } from "../../src/uws.js";
import { activeToken, http } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const MAIN = resolve(import.meta.dirname, "../../dist/src/main.js");

function runToExit(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "ticketing-startup-"));
  try {
    return spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ...env },
      encoding: "utf8",
      // A server that does start is killed outright: spawnSync closes its output on the timeout,
      // and a graceful stop is not what these tests are about.
      timeout: 10_000,
      killSignal: "SIGKILL",
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("start-up", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server?.cleanup();
    server = undefined;
  });

  it("exits with code 2 and names the variable when the configuration is bad", () => {
    const result = runToExit({ QUEUE_ACTIVE_MAX: "zero" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("QUEUE_ACTIVE_MAX");
  });

  it("refuses a short AUTH_SECRET", () => {
    const result = runToExit({ AUTH_SECRET: "short" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("AUTH_SECRET");
  });

  // UWS_USE_FALLBACK makes the Node 20 package fall back; where upstream's build loads, the server
  // never tries that package (src/uws.ts) and this cannot happen (unit test: uwsChoice).
  it.runIf(uwsChoice().build === "node20 v20.30.0")(
    "refuses to start on the slow JavaScript fallback of uWebSockets.js",
    () => {
      const result = runToExit({ UWS_USE_FALLBACK: "1" });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("fell back");
    },
  );

  it("serves the demo catalog on an empty database when SEED_DEMO=1", async () => {
    server = await startServer({ env: { SEED_DEMO: "1" } });
    const token = await activeToken(server, "demo-user");
    const concerts = await http(server, "GET", "/v1/concerts", { user: "demo-user", queueToken: token });
    expect(concerts.status).toBe(200);
    expect(concerts.body.concerts.length).toBeGreaterThanOrEqual(3);
    const schedules = await http(server, "GET", `/v1/concerts/${concerts.body.concerts[0].id}/schedules`, {
      user: "demo-user",
      queueToken: token,
    });
    expect(schedules.body.schedules[0].totalSeats).toBe(2000);
  });

  it("generates AUTH_SECRET and ADMIN_TOKEN into DATA_DIR once and reuses them", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ticketing-secrets-"));
    server = await startServer({ dataDir, env: { AUTH_SECRET: "", ADMIN_TOKEN: "" } });
    const secretFile = join(dataDir, "secrets", "auth_secret");
    const adminFile = join(dataDir, "secrets", "admin_token");
    expect(existsSync(secretFile) && existsSync(adminFile)).toBe(true);
    const adminToken = readFileSync(adminFile, "utf8").trim();
    const created = await http(server, "POST", "/v1/admin/concerts", {
      headers: { authorization: `Bearer ${adminToken}` },
      body: { title: "Generated secrets", schedules: [{ startsAt: "2027-05-01T18:00:00Z", seatCount: 1, price: 1 }] },
    });
    expect(created.status).toBe(201);
    await server.stop();
    server = await startServer({ dataDir, env: { AUTH_SECRET: "", ADMIN_TOKEN: "" } });
    expect(readFileSync(adminFile, "utf8").trim()).toBe(adminToken);
    const again = await http(server, "POST", "/v1/admin/concerts", {
      headers: { authorization: `Bearer ${adminToken}` },
      body: { title: "Still valid", schedules: [{ startsAt: "2027-05-01T18:00:00Z", seatCount: 1, price: 1 }] },
    });
    expect(again.status).toBe(201);
  });

  it("exits 0 on SIGTERM and on SIGINT", async () => {
    server = await startServer();
    expect(await server.stop()).toBe(0);
    server.cleanup();
    server = await startServer();
    server.child.kill("SIGINT");
    const code = await new Promise((done) => server!.child.once("exit", done));
    expect(code).toBe(0);
  });

  it("still exits 0 on SIGTERM when whatever read its log went away (stdout closed)", async () => {
    server = await startServer();
    server.child.stdout?.destroy();
    await new Promise((done) => setTimeout(done, 100));
    expect(
      await Promise.race([server.stop(), new Promise((done) => setTimeout(() => done("still running"), 5000))]),
    ).toBe(0);
  });
});
