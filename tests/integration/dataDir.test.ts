// The data directory as the real process sees it: one server per DATA_DIR (a lock the system
// releases when the process dies), a database file deleted or replaced underneath a running
// server, the refusal to start a fresh database where one existed, the money check at start,
// and files only the server's user can read.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, test } from "vitest";
import { http } from "../helpers/client.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { ServerExitedError, type ServerOptions, startServer, type TestServer } from "../helpers/server.js";

const ENV = { RATE_LIMIT_PER_SECOND: "0", MONEY_RATE_PER_SECOND: "0" };
const servers: TestServer[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const server of servers) await server.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ticketing-datadir-"));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer({ dataDir, env: { ...ENV, ...env } });
  servers.push(server);
  return server;
}

/** Starts a server that is expected to refuse: resolves with how it exited (a server that listens fails the test). */
async function refused(dataDir: string, env: Record<string, string> = {}): Promise<ServerExitedError> {
  const options: ServerOptions = { dataDir, env: { ...ENV, ...env } };
  const outcome = await startServer(options).then(
    (server) => {
      servers.push(server);
      return server;
    },
    (error: unknown) => error,
  );
  if (!(outcome instanceof ServerExitedError)) {
    throw new Error(
      `expected the server to refuse to start, but it ${outcome instanceof Error ? outcome.message : "listened"}`,
    );
  }
  return outcome;
}

function exitCode(server: TestServer): Promise<number | null> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((done) => server.child.once("exit", (code) => done(code)));
}

const charge = (server: TestServer, user: string, amount: number) =>
  http(server, "POST", "/v1/balance/charge", { user, body: { amount } });
const balanceOf = async (server: TestServer, user: string) =>
  (await http(server, "GET", "/v1/balance", { user })).body.balance as number;

/** Reads the stopped server's database directly. */
function onDisk<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const NO_STACK_TRACE = /^\s+at /m;

onlyOn("sqlite", "the lock and the checks are on tickets.db").describe("one server per DATA_DIR", () => {
  test("a second server on the same DATA_DIR exits 2 naming the directory; the first keeps serving and its data is intact", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "owner", 500)).status).toBe(200);

    const second = await refused(dataDir);
    expect(second.exitCode).toBe(2);
    expect(second.output).toContain(dataDir);
    expect(second.output).not.toMatch(NO_STACK_TRACE);

    expect((await http(first, "GET", "/healthz")).status).toBe(200);
    expect((await charge(first, "owner", 250)).status).toBe(200);
    expect(await balanceOf(first, "owner")).toBe(750);
    expect(await first.stop()).toBe(0);
    onDisk(dataDir, (db) => {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(db.prepare("SELECT SUM(amount) AS sum, COUNT(*) AS rows FROM ledger").get()).toEqual({
        sum: 750,
        rows: 2,
      });
      expect(db.prepare("SELECT balance FROM users WHERE id = 'owner'").get()).toEqual({ balance: 750 });
    });
  });

  test("the lock dies with its holder: after kill -9, and after a clean stop, the next server starts at once", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "crashy", 10)).status).toBe(200);
    expect((await refused(dataDir)).exitCode).toBe(2);
    await first.kill();

    const afterKill = await start(dataDir);
    expect(await balanceOf(afterKill, "crashy")).toBe(10);
    expect((await refused(dataDir)).exitCode).toBe(2);
    expect(await afterKill.stop()).toBe(0);

    const afterStop = await start(dataDir);
    expect(await balanceOf(afterStop, "crashy")).toBe(10);
    await afterStop.stop();
  });
});

onlyOn("sqlite", "deletes tickets.db").describe("the database file deleted or replaced under a running server", () => {
  // The check sits where both writers go through: in place (normal) and on the writer thread (full).
  test.each(["normal", "full"])(
    "deleted (DURABILITY=%s): /healthz answers 503 with Retry-After, the next charge 503 UNAVAILABLE, and the process exits 1",
    async (durability) => {
      const dataDir = newDataDir();
      const server = await start(dataDir, { DURABILITY: durability });
      expect((await charge(server, "victim", 100)).status).toBe(200);
      unlinkSync(join(dataDir, "tickets.db"));

      const health = await http(server, "GET", "/healthz");
      expect(health.status).toBe(503);
      expect(health.body.error.code).toBe("UNAVAILABLE");
      expect(health.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);

      const after = await charge(server, "victim", 1);
      expect(after.status).toBe(503);
      expect(after.body.error.code).toBe("UNAVAILABLE");
      expect(await exitCode(server)).toBe(1);
      expect(server.logs.join("\n")).toContain("commit failed");
    },
  );

  test("replaced by another file: /healthz answers 503, the next charge 503 UNAVAILABLE, and the process exits 1", async () => {
    const dataDir = newDataDir();
    const server = await start(dataDir);
    expect((await charge(server, "swapped", 100)).status).toBe(200);
    const file = join(dataDir, "tickets.db");
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);

    const health = await http(server, "GET", "/healthz");
    expect(health.status).toBe(503);
    expect(health.body.error.code).toBe("UNAVAILABLE");
    expect((await charge(server, "swapped", 1)).status).toBe(503);
    expect(await exitCode(server)).toBe(1);
  });
});

onlyOn("sqlite", "deletes and replaces tickets.db").describe("no new empty database where one existed", () => {
  test("after tickets.db is deleted a restart refuses (exit 1) until ALLOW_NEW_DATABASE=1, which starts empty and moves the orphaned WAL aside", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "lost", 100)).status).toBe(200);
    unlinkSync(join(dataDir, "tickets.db"));
    await first.kill();
    expect(existsSync(join(dataDir, "tickets.db-wal"))).toBe(true);

    const refusal = await refused(dataDir);
    expect(refusal.exitCode).toBe(1);
    expect(refusal.output).toContain("tickets.db");
    expect(refusal.output).toContain("ALLOW_NEW_DATABASE");
    expect(refusal.output).not.toMatch(NO_STACK_TRACE);
    expect(existsSync(join(dataDir, "tickets.db"))).toBe(false);

    const fresh = await start(dataDir, { ALLOW_NEW_DATABASE: "1" });
    expect(fresh.logs.join("\n")).toMatch(/"level":40.*ALLOW_NEW_DATABASE/);
    expect(await balanceOf(fresh, "lost")).toBe(0);
    const moved = readdirSync(dataDir).filter((name) => name.includes(".orphaned-"));
    expect(moved.some((name) => name.startsWith("tickets.db-wal."))).toBe(true);
    expect((await charge(fresh, "new", 5)).status).toBe(200);
    await fresh.stop();

    // The new database is now the one the marker protects; a plain restart uses it.
    const again = await start(dataDir);
    expect(await balanceOf(again, "new")).toBe(5);
    await again.stop();
  });

  test("a tickets.db replaced by an empty or foreign SQLite file (user_version 0) is refused at start", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "kept", 1)).status).toBe(200);
    await first.stop();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(join(dataDir, `tickets.db${suffix}`), { force: true });
    const foreign = new Database(join(dataDir, "tickets.db"));
    foreign.exec("CREATE TABLE something_else (x)");
    foreign.close();

    const refusal = await refused(dataDir);
    expect(refusal.exitCode).toBe(1);
    expect(refusal.output).toContain("ALLOW_NEW_DATABASE");
  });

  test("a backup copied to tickets.db in a new DATA_DIR starts with its data (and is protected from then on)", async () => {
    const original = newDataDir();
    const first = await start(original);
    expect((await charge(first, "saved", 42)).status).toBe(200);
    const restored = newDataDir();
    // A consistent copy taken while the server runs (SQLite's online backup).
    const source = new Database(join(original, "tickets.db"), { readonly: true });
    await source.backup(join(restored, "tickets.db"));
    source.close();
    await first.stop();

    const server = await start(restored);
    expect(await balanceOf(server, "saved")).toBe(42);
    expect(existsSync(join(restored, "tickets.db.marker"))).toBe(true);
    await server.stop();
  });
});

onlyOn("sqlite", "tampers with tickets.db; to port with server.databaseUrl").describe("money at start", () => {
  test("a balance that differs from its ledger stops the start with exit 1, naming how many users and which", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "alice", 100)).status).toBe(200);
    expect((await charge(first, "bob", 50)).status).toBe(200);
    await first.stop();

    const db = new Database(join(dataDir, "tickets.db"));
    db.prepare("UPDATE users SET balance = balance + 1 WHERE id = 'alice'").run();
    // Ledger rows of a user without a balance row (the row the ledger's trigger made, deleted by
    // hand), and a balance without ledger rows.
    db.prepare(
      "INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES ('ghost', 30, 'charge', NULL, 0)",
    ).run();
    db.prepare("DELETE FROM users WHERE id = 'ghost'").run();
    db.prepare("INSERT INTO users (id, balance) VALUES ('carol', 7)").run();
    db.close();

    const refusal = await refused(dataDir);
    expect(refusal.exitCode).toBe(1);
    expect(refusal.output).toMatch(/\b3 users\b/);
    for (const user of ["alice", "ghost", "carol"]) expect(refusal.output).toContain(user);
    expect(refusal.output).not.toContain('"bob"');
    expect(refusal.output).not.toMatch(NO_STACK_TRACE);
  });
});

onlyOn("sqlite", "modes of the tickets.db files").describe("file modes", () => {
  const FILES = ["tickets.db", "tickets.db-wal", "tickets.db-shm", "tickets.db.marker", "tickets.lock"];
  const modes = (dataDir: string) =>
    Object.fromEntries(FILES.map((name) => [name, (statSync(join(dataDir, name)).mode & 0o777).toString(8)]));
  const allPrivate = Object.fromEntries(FILES.map((name) => [name, "600"]));

  test("the database, its WAL and shared memory, the marker and the lock are 0600, and a restart tightens looser ones", async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    expect((await charge(first, "private", 1)).status).toBe(200);
    expect(modes(dataDir)).toEqual(allPrivate);
    await first.kill();

    for (const name of FILES) chmodSync(join(dataDir, name), 0o644);
    const second = await start(dataDir);
    expect((await charge(second, "private", 1)).status).toBe(200);
    expect(modes(dataDir)).toEqual(allPrivate);
    await second.stop();
  });
});
