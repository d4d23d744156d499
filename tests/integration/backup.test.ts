// `npm run backup` under load: the real command copies the database of a server that keeps
// serving a booking mix; a server restored from that one file has every change acknowledged
// before the copy began, none sent after it ended, consistent money and seats, and takes writes.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { runBackup } from "../helpers/backupCommand.js";
import { type Mutation, startBookingLoad } from "../helpers/bookingLoad.js";
import { activeToken, createConcert, http } from "../helpers/client.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { startServer, type TestServer } from "../helpers/server.js";

// Rate limits being added elsewhere must not shape this load.
const ENV = {
  RATE_LIMIT_PER_IP: "0",
  MONEY_RATE_PER_SECOND: "0",
  QUEUE_ACTIVE_MAX: "10000",
  HOLD_TTL_MS: "120000",
  MAX_HOLDS_PER_USER: "4",
};
const USERS = Array.from({ length: 8 }, (_, i) => `backup-user-${i}`);
const SEATS = 20_000;
// Ledger rows written before the server starts (100 users whose balances equal their rows), so
// that the copy (18 MB) takes long enough, 30 ms idle and more under load, to be seen overlapping the load.
const FILLER_ROWS = 500_000;

/** Resolves once `condition` holds (checked every 20 ms); fails after 20 s. */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("waitUntil: timed out");
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
// The test runs on SQLite only; a PostgreSQL database is backed up with PostgreSQL's own tools.
const { test } = onlyOn("sqlite", "npm run backup copies tickets.db");
const workDir = mkdtempSync(join(tmpdir(), "ticketing-backup-"));
const servers: TestServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.kill();
  rmSync(workDir, { recursive: true, force: true });
});

function fillLedger(dataDir: string, rows: number): void {
  const db = openDatabase(dataDir, "normal");
  // Each ledger row moves its user's balance (the ledger's trigger).
  const addRow = db.prepare("INSERT INTO ledger (user_id, amount, kind, created_at) VALUES (?, ?, 'charge', ?)");
  db.transaction(() => {
    for (let u = 0; u < 100; u++) {
      for (let i = 0; i < rows / 100; i++) addRow.run(`filler-${u}`, 1 + ((i * 7919) % 5000), Date.now());
    }
  })();
  db.close();
}

/** What the copy itself must show: whole, standalone, money and seats consistent, nothing from after it. */
function auditCopy(file: string, after: Mutation[]): string[] {
  const problems: string[] = [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const verdict = db.pragma("integrity_check", { simple: true });
    if (verdict !== "ok") problems.push(`integrity_check: ${verdict}`);
    const mode = db.pragma("journal_mode", { simple: true });
    if (mode !== "delete") problems.push(`journal mode ${mode}: the file needs a -wal beside it`);

    const sums = new Map<string, number>();
    for (const row of db.prepare("SELECT user_id, SUM(amount) AS sum FROM ledger GROUP BY user_id").all() as any[]) {
      sums.set(row.user_id, row.sum);
    }
    const users = db.prepare("SELECT id, balance FROM users").all() as { id: string; balance: number }[];
    for (const u of users) {
      if (u.balance !== (sums.get(u.id) ?? 0)) problems.push(`${u.id}: balance ${u.balance}, ledger ${sums.get(u.id)}`);
    }
    for (const user of sums.keys()) if (!users.some((u) => u.id === user)) problems.push(`ledger rows of ${user}`);
    const twice = db
      .prepare(
        "SELECT schedule_id, seat_no, COUNT(*) AS n FROM reservations WHERE status IN ('held','paid') GROUP BY schedule_id, seat_no HAVING n > 1",
      )
      .all() as any[];
    for (const row of twice) problems.push(`seat ${row.schedule_id}/${row.seat_no} taken ${row.n} times`);

    // Sent after the copy's read transaction ended: none of it can be in the copy.
    const record = db.prepare("SELECT 1 FROM idempotency WHERE user_id = ? AND key = ?");
    const status = db.prepare("SELECT status FROM reservations WHERE id = ?").pluck();
    for (const m of after) {
      if (m.key !== undefined && record.get(m.user, m.key))
        problems.push(`${m.op} ${m.key} sent after the copy is in it`);
      if (m.op === "hold" && status.get(m.reply.reservationId) !== undefined) {
        problems.push(`hold ${m.reply.reservationId} sent after the copy is in it`);
      }
      if (m.op === "release" && ![undefined, "held"].includes(status.get(m.reply.reservationId) as string)) {
        problems.push(`release of ${m.reply.reservationId} sent after the copy is in it`);
      }
      if (m.op === "pay") {
        for (const id of m.reply.reservationIds) {
          if (status.get(id) === "paid") problems.push(`payment ${m.reply.paymentId} sent after the copy is in it`);
        }
      }
    }
  } finally {
    db.close();
  }
  return problems;
}

/** Over the restored server's API: every mutation acknowledged before the copy began is there. */
async function checkAcknowledged(server: TestServer, before: Mutation[]): Promise<string[]> {
  const problems: string[] = [];
  const paid = new Set(before.filter((m) => m.op === "pay").flatMap((m) => m.reply.reservationIds as number[]));
  const released = new Set(before.filter((m) => m.op === "release").map((m) => m.reply.reservationId as number));
  const check = async (m: Mutation) => {
    if (m.op === "charge" || m.op === "pay") {
      const path = m.op === "charge" ? "/v1/balance/charge" : "/v1/payments";
      const replay = await http(server, "POST", path, { user: m.user, idempotencyKey: m.key!, body: m.body });
      if (replay.status !== m.status || JSON.stringify(replay.body) !== JSON.stringify(m.reply)) {
        problems.push(
          `replay of ${m.op} ${m.key}: ${replay.status} ${replay.text}, acknowledged ${JSON.stringify(m.reply)}`,
        );
      }
      return;
    }
    const id = m.reply.reservationId as number;
    const got = (await http(server, "GET", `/v1/reservations/${id}`, { user: m.user })).body;
    const expected = paid.has(id) ? ["paid"] : released.has(id) ? ["released"] : ["held", "paid", "released"];
    const same =
      m.op === "release" ||
      (got.scheduleId === m.reply.scheduleId && got.seatNo === m.reply.seatNo && got.expiresAt === m.reply.expiresAt);
    if (!same || !expected.includes(got.status)) {
      problems.push(`${m.op} of reservation ${id}: restored ${JSON.stringify(got)}, expected ${expected}`);
    }
  };
  for (let i = 0; i < before.length; i += 16) await Promise.all(before.slice(i, i + 16).map(check));
  return problems;
}

test("a backup taken under load restores every change acknowledged before it, and nothing sent after it", {
  timeout: 60_000,
}, async () => {
  const dataDir = join(workDir, "live");
  const restoreDir = join(workDir, "restored");
  const backupFile = join(workDir, "copies", "tickets-backup.db");
  for (const dir of [dataDir, restoreDir, dirname(backupFile)]) mkdirSync(dir);

  fillLedger(dataDir, FILLER_ROWS);
  const live = await startServer({ dataDir, env: ENV });
  servers.push(live);
  const concert = await createConcert(live, [{ startsAt: "2027-05-01T19:00:00.000Z", seatCount: SEATS, price: 1000 }]);
  const load = startBookingLoad(live, {
    users: USERS,
    scheduleId: concert.schedules[0]!.id,
    seatCount: SEATS,
    maxHoldsPerUser: 4,
  });

  // Enough acknowledged work before the backup and after it, however busy the machine is.
  await waitUntil(() => load.acked.length > 100);
  const run = await runBackup(dataDir, [backupFile]);
  const ackedByCopy = load.acked.length;
  await waitUntil(() => load.acked.length > ackedByCopy + 120);
  await load.stop();
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(load.unexpected.slice(0, 5), "the live server's replies").toEqual([]);

  // The one line: path, bytes, pages, the snapshot's moment and the copy's duration.
  const line = run.stdout.trim();
  const parsed =
    /^backup: wrote (\S+): (\d+) bytes, (\d+) pages, \S+ as of (\S+), copied in ([\d.]+) s, integrity ok/.exec(line);
  expect(parsed, line).not.toBeNull();
  const [, file, bytes, pages] = parsed!;
  const snapshotAt = Date.parse(parsed![4]!);
  const copiedBy = snapshotAt + Math.ceil(Number(parsed![5]) * 1000) + 1;
  expect(file).toBe(backupFile);
  expect(statSync(backupFile).size).toBe(Number(bytes));
  expect(statSync(backupFile).mode & 0o777).toBe(0o600);
  expect(readdirSync(dirname(backupFile))).toEqual(["tickets-backup.db"]); // no -wal, no partial file

  // The server kept serving while the copy's read transaction was open.
  const during = load.acked.filter((m) => m.ackedAt >= snapshotAt && m.ackedAt <= copiedBy);
  expect(during.length, "mutations acknowledged during the copy").toBeGreaterThan(0);

  const before = load.acked.filter((m) => m.ackedAt < snapshotAt);
  const after = load.acked.filter((m) => m.sentAt > copiedBy);
  expect(load.acked.filter((m) => m.ackedAt < run.spawnedAt).length).toBeGreaterThan(100);
  expect(after.length).toBeGreaterThan(50);
  expect(await live.stop()).toBe(0);

  // Restore: the one file becomes tickets.db in a new DATA_DIR; the secrets come from the env.
  copyFileSync(backupFile, join(restoreDir, "tickets.db"));
  expect(auditCopy(join(restoreDir, "tickets.db"), after)).toEqual([]);
  const restored = await startServer({ dataDir: restoreDir, env: ENV });
  servers.push(restored);
  expect(await checkAcknowledged(restored, before)).toEqual([]);

  // The restored server takes new writes: a charge on a restored balance; a new buyer's hold and payment.
  const user = USERS[0]!;
  const balance = (await http(restored, "GET", "/v1/balance", { user })).body.balance as number;
  const charged = await http(restored, "POST", "/v1/balance/charge", {
    user,
    idempotencyKey: "after-restore",
    body: { amount: 5000 },
  });
  expect(charged.status, charged.text).toBe(200);
  expect(charged.body.balance).toBe(balance + 5000);
  const buyer = "restored-buyer";
  const scheduleId = concert.schedules[0]!.id;
  expect((await http(restored, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 1000 } })).status).toBe(
    200,
  );
  const token = await activeToken(restored, buyer);
  const seats = await http(restored, "GET", `/v1/schedules/${scheduleId}/seats`, { user: buyer, queueToken: token });
  const free = (seats.body.seats as { no: number; status: string }[]).find((seat) => seat.status === "available")!;
  const hold = await http(restored, "POST", "/v1/reservations", {
    user: buyer,
    queueToken: token,
    body: { scheduleId, seatNo: free.no },
  });
  expect(hold.status, hold.text).toBe(201);
  const pay = await http(restored, "POST", "/v1/payments", {
    user: buyer,
    body: { reservationIds: [hold.body.reservationId] },
  });
  expect(pay.status, pay.text).toBe(201);

  console.log(
    `backup summary: ${JSON.stringify({
      bytes: Number(bytes),
      pages: Number(pages),
      copySeconds: Number(parsed![5]),
      commandMs: run.exitedAt - run.spawnedAt,
      acknowledged: load.acked.length,
      checkedBefore: before.length,
      acknowledgedDuringCopy: during.length,
      slowestReplyDuringCopyMs: Math.max(...during.map((m) => m.ackedAt - m.sentAt)),
      sentAfter: after.length,
    })}`,
  );
});
