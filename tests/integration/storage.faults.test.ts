// Storage faults: a full disk and a database that turns read-only make mutations fail with
// 503 UNAVAILABLE (never a success that is not durable) and stop the process with exit code 1;
// a restart on the same files is consistent, and a restart on a full disk says so and exits. The WAL stays bounded under constant writes.
// The fault tests mount small tmpfs filesystems, so they need root (they are skipped otherwise).
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { http } from "../helpers/client.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { ServerExitedError, startServer, type TestServer } from "../helpers/server.js";

const ENV = { RATE_LIMIT_PER_SECOND: "0", MONEY_RATE_PER_SECOND: "0" };
const mounts: string[] = [];
const servers: TestServer[] = [];

function tryMount(sizeKb: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), "ticketing-fs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], { stdio: "ignore" });
    mounts.push(dir);
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const canMount = (() => {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const dir = tryMount(64);
  if (dir === null) return false;
  execFileSync("umount", [dir]);
  mounts.splice(mounts.indexOf(dir), 1);
  rmSync(dir, { recursive: true, force: true });
  return true;
})();
// A full or read-only disk under DATA_DIR only reaches a database whose files live there.
const sqliteFiles = onlyOn("sqlite", "fills and freezes the file system of tickets.db");

afterAll(async () => {
  for (const server of servers) await server.kill();
  for (const dir of mounts) {
    try {
      execFileSync("umount", [dir], { stdio: "ignore" });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
});

async function start(dataDir?: string, env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer({ dataDir, env: { ...ENV, ...env } });
  servers.push(server);
  return server;
}

/** Charges in rounds of 20 until a reply is not 200 or the process is gone; returns what was acknowledged. */
async function chargeUntilFailure(server: TestServer, user: string) {
  let acknowledged = 0;
  const failures: string[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && failures.length === 0) {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        http(server, "POST", "/v1/balance/charge", { user, body: { amount: 1 } }).catch(() => null),
      ),
    );
    for (const reply of replies) {
      if (reply === null) failures.push("connection closed");
      else if (reply.status === 200) acknowledged++;
      else failures.push(`${reply.status} ${reply.body?.error?.code}`);
    }
  }
  return { acknowledged, failures };
}

/** Fills the filesystem of `dir` to the last byte with a file named `filler`. */
function fillToTheLastByte(dir: string): void {
  const filler = openSync(join(dir, "filler"), "w");
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(filler, block);
  } catch {}
  try {
    for (;;) writeSync(filler, Buffer.alloc(512, 1));
  } catch {}
  closeSync(filler);
}

function exitCode(server: TestServer): Promise<number | null> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((done) => server.child.once("exit", (code) => done(code)));
}

describe.skipIf(!canMount || sqliteFiles.skip)(sqliteFiles.title("storage faults (tmpfs; needs root)"), () => {
  // DURABILITY=full commits on the writer thread, normal in place: both must fail the same way.
  test.each(["normal", "full"])(
    "a full disk (DURABILITY=%s): mutations fail with 503 UNAVAILABLE, the process exits 1, and a restart shows exactly the acknowledged charges",
    async (durability) => {
      const dir = tryMount(3 * 1024)!;
      const server = await start(dir, { DURABILITY: durability });
      const user = "disk-full";
      const before = await http(server, "POST", "/v1/balance/charge", { user, body: { amount: 1000 } });
      expect(before.status).toBe(200);
      fillToTheLastByte(dir);

      const { acknowledged, failures } = await chargeUntilFailure(server, user);
      expect(failures.length).toBeGreaterThan(0);
      // The first failures are storage errors, never a bug or a fake success.
      expect(failures.filter((x) => x !== "503 UNAVAILABLE" && x !== "connection closed")).toEqual([]);
      expect(failures).toContain("503 UNAVAILABLE");
      expect(await exitCode(server)).toBe(1);
      expect(server.logs.join("\n")).toContain("commit failed");

      rmSync(join(dir, "filler"));
      const restarted = await start(dir, { DURABILITY: durability });
      const balance = await http(restarted, "GET", "/v1/balance", { user });
      expect(balance.body.balance).toBe(1000 + acknowledged);
      const after = await http(restarted, "POST", "/v1/balance/charge", { user, body: { amount: 1 } });
      expect(after.status).toBe(200);
      await restarted.stop();
      const db = new Database(join(dir, "tickets.db"), { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const ledger = db.prepare("SELECT SUM(amount) AS sum FROM ledger WHERE user_id = ?").get(user) as { sum: number };
      expect(ledger.sum).toBe(1000 + acknowledged + 1);
      db.close();
      console.log(
        `disk full: ${acknowledged} charges acknowledged after the disk filled, then ${failures.length} refusals`,
      );
    },
    60_000,
  );

  // Two ways in: a clean stop (the WAL is gone; opening it again needs space) caught by the free
  // space check, and kill -9 (the WAL remains, reads work) with the check off, caught by the
  // small write every start makes. Either way the server must not listen and die on the first write.
  test.each([
    ["after a clean stop", "stop", {}],
    ["after kill -9, with DISK_MIN_FREE_BYTES=0", "kill", { DISK_MIN_FREE_BYTES: "0" }],
  ] as const)(
    "a restart on a full disk (%s) exits 1 saying the disk is full and how much is free; once space is freed it starts with its data",
    async (_name, how, env) => {
      const dir = tryMount(3 * 1024)!;
      const first = await start(dir);
      expect((await http(first, "POST", "/v1/balance/charge", { user: "full", body: { amount: 300 } })).status).toBe(
        200,
      );
      if (how === "stop") expect(await first.stop()).toBe(0);
      else await first.kill();
      fillToTheLastByte(dir);

      const refusal = await start(dir, env).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ServerExitedError);
      const { exitCode: code, output } = refusal as ServerExitedError;
      expect(code).toBe(1);
      expect(output).toMatch(/disk is full/);
      expect(output).toMatch(/\b0 bytes free\b/);
      expect(output).toContain(dir);
      expect(output).not.toMatch(/^\s+at /m);

      rmSync(join(dir, "filler"));
      const restarted = await start(dir, env);
      expect((await http(restarted, "GET", "/v1/balance", { user: "full" })).body.balance).toBe(300);
      await restarted.stop();
    },
    60_000,
  );

  test("a read-only filesystem: mutations get 503 UNAVAILABLE and the process exits 1 (or it refuses to start); once writable it starts with its data", async () => {
    const dir = tryMount(16 * 1024)!;
    const first = await start(dir);
    expect((await http(first, "POST", "/v1/balance/charge", { user: "ro", body: { amount: 700 } })).status).toBe(200);
    await first.kill();
    execFileSync("mount", ["-o", "remount,ro", dir]);
    try {
      // SQLite may open the file read-only and start (then every mutation must fail), or refuse to start.
      const readOnly = await start(dir).catch((error: Error) => error);
      if (readOnly instanceof Error) {
        expect(readOnly.message).toMatch(/exited with [1-9]/);
      } else {
        expect((await http(readOnly, "GET", "/v1/balance", { user: "ro" })).body.balance).toBe(700);
        const { acknowledged, failures } = await chargeUntilFailure(readOnly, "ro");
        expect(acknowledged).toBe(0);
        expect(failures.filter((x) => x !== "503 UNAVAILABLE" && x !== "connection closed")).toEqual([]);
        expect(failures).toContain("503 UNAVAILABLE");
        expect(await exitCode(readOnly)).toBe(1);
      }
    } finally {
      execFileSync("mount", ["-o", "remount,rw", dir]);
    }
    const restarted = await start(dir);
    expect((await http(restarted, "GET", "/v1/balance", { user: "ro" })).body.balance).toBe(700);
    await restarted.stop();
  }, 60_000);
});

onlyOn("sqlite", "the -wal file of tickets.db").describe("WAL checkpointing", () => {
  test("under constant writes the -wal file stays bounded (wal_autocheckpoint is effective)", async () => {
    const server = await start();
    const wal = join(server.dataDir, "tickets.db-wal");
    const BOUND = 6 * 2 ** 20;
    let largest = 0;
    let sent = 0;
    let commits = 0;
    // Each commit appends at least three 4 KiB pages (ledger, its index, the balance row) to the WAL.
    const walBytesWritten = () => commits * 3 * 4096;
    const readCommits = async () => {
      const metrics = (await http(server, "GET", "/metrics")).text;
      commits = Number(/^ticketing_commit_seconds_count (\d+)/m.exec(metrics)?.[1]);
    };
    // Three writers, one charge at a time each (many small transactions), until without checkpoints
    // the WAL would have passed twice the bound (or 20 s on a very busy machine).
    const deadline = Date.now() + 20_000;
    while (walBytesWritten() <= 2 * BOUND && Date.now() < deadline) {
      await Promise.all(
        [1, 2, 3].map(async (w) => {
          for (let i = 0; i < 200; i++) {
            sent++;
            await http(server, "POST", "/v1/balance/charge", {
              user: `wal-${w}`,
              idempotencyKey: `k-${sent}`,
              body: { amount: 1 },
            });
            if (sent % 50 === 0 && existsSync(wal)) largest = Math.max(largest, statSync(wal).size);
          }
        }),
      );
      await readCommits();
    }
    console.log(
      `WAL: ${commits} commits (~${(walBytesWritten() / 2 ** 20).toFixed(0)} MiB of frames), largest -wal ${(largest / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(walBytesWritten()).toBeGreaterThan(2 * BOUND);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(BOUND);
    await server.stop();
    server.cleanup();
  }, 30_000);
});
