// What every scenario shares: run length, the server under test with a benchmark catalog, results.
import { HttpClient } from "../../src/client/index.js";
import { startServer, TEST_AUTH_SECRET, type TestServer, userJwt } from "../../tests/helpers/server.js";
import type { Audit } from "./audit.js";
import type { LatencySummary } from "./histogram.js";

export interface BenchContext {
  quick: boolean;
  /** Seconds a measured phase lasts: `full` normally, `quick` with --quick. */
  seconds(full: number, quick: number): number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  throughput?: number;
  unit?: string;
  latency?: LatencySummary;
  figures: Record<string, number | string>;
  audit?: Audit;
  /** Target checks: name -> [measured, target text, met]. */
  targets?: Record<string, { measured: number; target: string; met: boolean }>;
}

export const SECRET = TEST_AUTH_SECRET;

/**
 * The abuse limits, off: every generator connects from 127.0.0.1, so thousands of WebSocket
 * upgrades and new queue tokens would spend one address's budget (RATE_LIMIT_PER_IP, 100/s), and
 * a user who books at full speed pays more often than the money rate allows. A throughput
 * scenario measures the server's work, not its refusals; `g.flood` is the one about the limits.
 */
export const LIMITS_OFF: Readonly<Record<string, string>> = {
  // A load generator is one user per connection (or one user for autocannon): no rate limit.
  RATE_LIMIT_PER_SECOND: "0",
  RATE_LIMIT_PER_IP: "0",
  MONEY_RATE_PER_SECOND: "0",
};

/** Environment of the server under test: no queue, hold or rate limits get in the way unless set. */
export function benchEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    QUEUE_ACTIVE_MAX: "1000000",
    QUEUE_ACTIVE_TTL_MS: "3600000",
    QUEUE_WAITING_IDLE_MS: "600000",
    HOLD_TTL_MS: "3600000",
    ...LIMITS_OFF,
    ...overrides,
  };
}

export interface Catalog {
  concertId: number;
  bigScheduleIds: number[];
  seatsPerSchedule: number;
  smallScheduleId: number;
}

/** Creates `schedules` schedules of `seats` seats each, plus a 100-seat schedule for seats.list. */
export async function createCatalog(
  server: TestServer,
  schedules: number,
  seats: number,
  price = 1000,
): Promise<Catalog> {
  const startsAt = "2027-06-01T19:00:00.000Z";
  const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
  const concert = await admin.call("admin.concerts.create", {
    title: "Benchmark",
    schedules: [
      ...Array.from({ length: schedules }, () => ({ startsAt, seatCount: seats, price })),
      { startsAt, seatCount: 100, price },
    ],
  });
  const ids = concert.schedules.map((s) => s.id);
  return {
    concertId: concert.id,
    bigScheduleIds: ids.slice(0, schedules),
    seatsPerSchedule: seats,
    smallScheduleId: ids[schedules]!,
  };
}

/** A typed HTTP client for `user`, already admitted through the waiting room. */
export async function admittedClient(server: TestServer, user: string): Promise<HttpClient> {
  const client = new HttpClient({ baseUrl: server.url, token: userJwt(user, 24 * 3600, SECRET) });
  const status = await client.call("queue.check", {});
  if (status.status !== "active") throw new Error(`${user} was not admitted`);
  return client;
}

/**
 * Node flags of each server under test. BENCH_CPU_PROF=<dir> profiles it (node --cpu-prof, one
 * file per server); BENCH_NODE_ARGS adds flags for an experiment (e.g. GC settings).
 */
export function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  return [...(dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : []), ...extra];
}

/**
 * BENCH_SERVER_MAIN=<path to main.js> runs another build of the server under test: a "before"
 * build kept in its own folder (with a package.json beside its dist/) for before/after pairs.
 */
export function serverMain(): string | undefined {
  return process.env.BENCH_SERVER_MAIN || undefined;
}

export async function bookingServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ env: benchEnv(env), nodeArgs: profileArgs(), main: serverMain() });
}
