// What the cluster chaos tests (cluster.test.ts) read and watch besides the crash-loop audit: who
// owns a room now (the `leases` table), whether every hold left `held` in time once the load
// stopped, the payments the users were told about, a WebSocket that follows every schedule from a
// node that never dies and checks that no seat version goes backwards, and probes that measure
// how soon something works again.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { WsClient, type WsMessage } from "../helpers/client.js";
import type { ClusterNode } from "../helpers/cluster.js";
import type { DatabaseReader } from "../helpers/databaseReader.js";
import type { TestServer } from "../helpers/server.js";
import type { LogEntry } from "./audit.js";
import type { Finding, Target } from "./clusterLoad.js";

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export interface RoomLease {
  room: number;
  node: string;
  epoch: number;
}

/** The unexpired leases now, by PostgreSQL's clock (the one the leases are on). */
export async function liveLeases(db: DatabaseReader): Promise<RoomLease[]> {
  return db.all<RoomLease>(
    `SELECT concert_id AS room, node_id AS node, epoch FROM leases
     WHERE expires_at > floor(extract(epoch FROM clock_timestamp()) * 1000) ORDER BY concert_id`,
  );
}

/** Polls until `room` has an unexpired lease that `accept` takes; fails after `timeoutMs`. */
export async function waitForLease(
  db: DatabaseReader,
  room: number,
  accept: (lease: RoomLease) => boolean,
  timeoutMs: number,
  what: string,
): Promise<RoomLease> {
  const deadline = Date.now() + timeoutMs;
  let last: RoomLease | undefined;
  for (;;) {
    last = (await liveLeases(db)).find((lease) => lease.room === room);
    if (last !== undefined && accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`room ${room}: ${what} not within ${timeoutMs} ms (now ${JSON.stringify(last)})`);
    await sleep(25);
  }
}

export interface ExpiryReport {
  /** Holds still `held` when the load stopped. */
  holds: number;
  /** The latest any of them left `held`, after max(its expiresAt, the moment the load stopped). */
  maxLateMs: number;
  rows: { id: number; userId: string; expiresAt: number }[];
}

/**
 * Every reservation still `held` at `stoppedAt` (nobody books any more) must become `expired` by
 * max(its expiresAt, stoppedAt) + `withinMs`, on its own. Polls the database every 50 ms.
 */
export async function expectHoldsExpireInTime(
  db: DatabaseReader,
  stoppedAt: number,
  withinMs: number,
): Promise<ExpiryReport> {
  const rows = await db.all<{ id: number; userId: string; expiresAt: number }>(
    `SELECT id, user_id AS "userId", expires_at AS "expiresAt" FROM reservations WHERE status = 'held' ORDER BY id`,
  );
  const dueBy = new Map(rows.map((row) => [row.id, Math.max(row.expiresAt, stoppedAt) + withinMs]));
  const left = new Set(rows.map((row) => row.id));
  const late: string[] = [];
  let maxLateMs = 0;
  const lastDue = Math.max(stoppedAt, ...dueBy.values());
  while (left.size > 0) {
    const now = Date.now();
    const ids = [...left];
    const statuses = await db.all<{ id: number; status: string; expiresAt: number }>(
      `SELECT id, status, expires_at AS "expiresAt" FROM reservations WHERE id IN (${ids.join(",")})`,
    );
    for (const { id, status, expiresAt } of statuses) {
      if (status === "held") continue;
      left.delete(id);
      maxLateMs = Math.max(maxLateMs, now - Math.max(expiresAt, stoppedAt));
      if (status !== "expired") late.push(`hold ${id} became ${status} with nobody booking`);
      if (now > dueBy.get(id)!)
        late.push(`hold ${id} (expiresAt ${expiresAt}) expired only ${now - expiresAt} ms after it`);
    }
    if (Date.now() > lastDue + 100) break;
    await sleep(50);
  }
  for (const id of left) late.push(`hold ${id} still held ${Date.now() - dueBy.get(id)!} ms after its deadline`);
  expect(late.slice(0, 20), `holds that outlived max(expiresAt, load stop) + ${withinMs} ms`).toEqual([]);
  return { holds: rows.length, maxLateMs, rows };
}

/**
 * Starts `attempt` every `everyMs`, each on its own (one left waiting for its routed
 * request's time-out does not hold the next back), until one succeeds or `deadline`; resolves with
 * the ms from `since` to the first success (Infinity: none), once every attempt has ended.
 */
export async function firstSuccess(
  attempt: () => Promise<boolean>,
  since: number,
  deadline: number,
  everyMs = 250,
): Promise<number> {
  let first = Number.POSITIVE_INFINITY;
  const attempts: Promise<void>[] = [];
  while (first === Number.POSITIVE_INFINITY && Date.now() < deadline) {
    attempts.push(
      attempt().then((ok) => {
        if (ok) first = Math.min(first, Date.now() - since);
      }),
    );
    await sleep(everyMs);
  }
  await Promise.all(attempts);
  return first;
}

/** Writes every node's log (all its lives) and the load's findings to `dir`. */
export function saveLogs(dir: string, nodes: readonly ClusterNode[], findings: readonly Finding[]): void {
  mkdirSync(dir, { recursive: true });
  for (const node of nodes) writeFileSync(join(dir, `${node.id}.log`), node.logs.join("\n"));
  writeFileSync(join(dir, "findings.json"), JSON.stringify(findings, null, 1));
}

/**
 * What the users were told about payments, beside the audit: no reservation in two acknowledged
 * payments, and each payment's amount the sum of the prices its holds were acknowledged with.
 */
export function paymentProblems(entries: readonly LogEntry[]): string[] {
  const problems: string[] = [];
  const paidBy = new Map<number, number>();
  for (const entry of entries) {
    if (entry.t !== "ack" || entry.op !== "pay") continue;
    const { paymentId, reservationIds, amount } = entry.reply;
    const prices = entry.prices as number[];
    const sum = prices.reduce((total, price) => total + price, 0);
    if (amount !== sum) problems.push(`payment ${paymentId}: amount ${amount}, its holds' prices sum to ${sum}`);
    for (const id of reservationIds as number[]) {
      const earlier = paidBy.get(id);
      if (earlier !== undefined && earlier !== paymentId)
        problems.push(`reservation ${id} paid by ${earlier} and ${paymentId}`);
      paidBy.set(id, paymentId);
    }
  }
  return problems;
}

/**
 * A WebSocket on a node that is never killed, in both rooms' lines and subscribed to every
 * schedule: each seat push must carry a version above the last one it saw of that schedule
 * (gaps are allowed: a diff an owner had not published when it was killed, or one NATS lost).
 */
export class SeatWatcher {
  readonly problems: string[] = [];
  readonly pushes = new Map<number, number>();
  private readonly last = new Map<number, number>();

  private constructor(readonly socket: WsClient) {
    socket.socket.on("message", () => this.check());
  }

  static async open(server: TestServer, user: string, targets: readonly Target[]): Promise<SeatWatcher> {
    const socket = await WsClient.connect(server, user);
    const watcher = new SeatWatcher(socket);
    const ok = (reply: WsMessage) => expect(reply.ok, JSON.stringify(reply)).toBe(true);
    for (const room of new Set(targets.map((target) => target.room))) {
      ok(await socket.request("queue.check", room === 0 ? {} : { concertId: room }));
    }
    for (const { scheduleId } of targets) {
      const reply = await socket.request("seats.subscribe", { scheduleId });
      ok(reply);
      watcher.last.set(scheduleId, reply.data.version);
    }
    return watcher;
  }

  private seen = 0;

  private check(): void {
    const pushes = this.socket.pushes;
    for (; this.seen < pushes.length; this.seen++) {
      const push = pushes[this.seen]!;
      if (push.ev !== "seats") continue;
      const before = this.last.get(push.scheduleId);
      if (before !== undefined && push.version <= before) {
        this.problems.push(`schedule ${push.scheduleId}: version ${push.version} after ${before}`);
      }
      this.last.set(push.scheduleId, Math.max(before ?? 0, push.version));
      this.pushes.set(push.scheduleId, (this.pushes.get(push.scheduleId) ?? 0) + 1);
    }
  }

  /** Waits for a push of `scheduleId` that shows `seatNo` as `status`. */
  seatPush(scheduleId: number, seatNo: number, status: string, timeoutMs: number): Promise<WsMessage> {
    return this.socket.nextPush(
      "seats",
      (push) =>
        push.scheduleId === scheduleId &&
        (push.changes as { no: number; status: string }[]).some((c) => c.no === seatNo && c.status === status),
      timeoutMs,
    );
  }

  close(): void {
    this.socket.close();
  }
}
