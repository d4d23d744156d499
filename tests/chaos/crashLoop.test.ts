// Crash loop: client processes drive charges, holds, releases, idempotent payments and queue
// checks while the server is killed with SIGKILL at random moments and restarted on the same
// DATA_DIR (and so the same database on PostgreSQL). After every kill the database is audited
// against every acknowledged reply.
// CHAOS_CYCLES sets the number of cycles (npm test: 8; npm run chaos: 25).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { createConcert, http } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { auditDatabase, type LogEntry, readLog } from "./audit.js";

const CYCLES = Number(process.env.CHAOS_CYCLES ?? 8);
const CLIENTS = 3;
const USERS_PER_CLIENT = 4;
const SEATS = 5000;
const ENV = {
  // The subject is durability under a flood of money operations, not their per-user rate, nor the
  // per-address budget of new queue tokens (every client here is 127.0.0.1, and at ~2,500
  // requests/s a third of them are queue checks: past RATE_LIMIT_PER_IP's 100/s, burst 200).
  MONEY_RATE_PER_SECOND: "0",
  RATE_LIMIT_PER_IP: "0",
  QUEUE_ACTIVE_MAX: "10000",
  HOLD_TTL_MS: "3000",
  MAX_HOLDS_PER_USER: "4",
};
const CLIENT_SCRIPT = join(import.meta.dirname, "client.mjs");

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const workDir = mkdtempSync(join(tmpdir(), "ticketing-chaos-"));
const dataDir = join(workDir, "data");
const servers: TestServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.kill();
  // Every server of the loop shares one data dir and so one database: removing it once drops it.
  await servers.at(-1)?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

function runClient(server: TestServer, index: number, cycle: number, scheduleId: number): Promise<number | null> {
  const options = {
    url: server.url,
    secret: server.authSecret,
    users: Array.from({ length: USERS_PER_CLIENT }, (_, i) => `chaos-${index}-${i}`),
    cycle,
    scheduleId,
    seatCount: SEATS,
    logFile: join(workDir, `client-${index}.jsonl`),
  };
  const child = spawn(process.execPath, [CLIENT_SCRIPT, JSON.stringify(options)], { stdio: "inherit" });
  return new Promise((done) => child.once("exit", (code) => done(code)));
}

const allEntries = (): LogEntry[] =>
  Array.from({ length: CLIENTS }, (_, i) => readLog(join(workDir, `client-${i}.jsonl`))).flat();

test(`${CYCLES} kill -9 cycles under a booking mix lose no acknowledged change and leave money and seats consistent`, {
  timeout: 60_000 + CYCLES * 15_000,
}, async () => {
  let server = await startServer({ dataDir, env: ENV });
  servers.push(server);
  const concert = await createConcert(server, [
    { startsAt: "2027-03-01T19:00:00.000Z", seatCount: SEATS, price: 1000 },
  ]);
  const scheduleId = concert.schedules[0]!.id;
  const summary = { cycles: 0, acknowledged: 0, replays: 0, lastFacts: {} as object };

  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const upSince = Date.now();
    const clients = Array.from({ length: CLIENTS }, (_, i) => runClient(server, i, cycle, scheduleId));
    // Kill at a random moment of the flood (clients need ~150 ms to start sending).
    await sleep(400 + Math.random() * 1200);
    const killedAt = Date.now();
    await server.kill();
    expect(await Promise.all(clients)).toEqual(Array(CLIENTS).fill(0));

    const entries = allEntries();
    const findings = entries.filter((e) => e.t === "unexpected" || e.t === "crash" || e.t === "replayMismatch");
    expect(findings.slice(0, 5), "client findings").toEqual([]);
    const { problems, facts, heldRows } = await auditDatabase(server, entries, { upSince, killedAt });
    expect(problems, `audit after kill ${cycle}`).toEqual([]);

    server = await startServer({ dataDir, env: ENV });
    servers.push(server);

    // Holds keep their original expiresAt: held before it, expired after it.
    for (const row of heldRows.slice(0, 40)) {
      const reply = await http(server, "GET", `/v1/reservations/${row.id}`, { user: row.userId });
      const now = Date.now();
      expect(Date.parse(reply.body.expiresAt), `hold ${row.id}`).toBe(row.expiresAt);
      if (now > row.expiresAt + 50) expect(reply.body.status, `hold ${row.id}`).toBe("expired");
      if (now < row.expiresAt - 50) expect(reply.body.status, `hold ${row.id}`).toBe("held");
    }
    // Idempotent replays after the restart return the original response.
    const acked = entries.filter((e) => e.t === "ack" && (e.op === "charge" || e.op === "pay"));
    for (let i = 0; i < Math.min(15, acked.length); i++) {
      const original = acked[Math.floor(Math.random() * acked.length)]!;
      const path = original.op === "charge" ? "/v1/balance/charge" : "/v1/payments";
      const reply = await http(server, "POST", path, {
        user: original.user!,
        idempotencyKey: original.key!,
        body: original.req,
      });
      expect({ status: reply.status, body: reply.body }, `replay of ${original.key}`).toEqual({
        status: original.status,
        body: original.reply,
      });
      summary.replays++;
    }
    summary.cycles = cycle;
    summary.acknowledged = entries.filter((e) => e.t === "ack").length;
    summary.lastFacts = facts;
  }
  summary.replays += allEntries().filter((e) => e.t === "replayOk").length;
  console.log(`chaos summary: ${JSON.stringify(summary)}`);
  expect(summary.acknowledged).toBeGreaterThan(CYCLES * 20);
});
