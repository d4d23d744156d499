// What every scenario shares: run length, the server under test with a benchmark catalog, results.
import { adminHeaders, http } from "../../tests/helpers/client.js";
import { startServer, TEST_AUTH_SECRET, type TestServer } from "../../tests/helpers/server.js";
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

/** Environment of the server under test: no queue or hold limits get in the way unless set. */
export function benchEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: "warn",
    QUEUE_ACTIVE_MAX: "1000000",
    QUEUE_ACTIVE_TTL_MS: "3600000",
    QUEUE_WAITING_IDLE_MS: "600000",
    HOLD_TTL_MS: "3600000",
    // A load generator is one user per connection (or one user for autocannon): no rate limit.
    RATE_LIMIT_PER_SECOND: "0",
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
  const reply = await http(server, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(server),
    body: {
      title: "Benchmark",
      schedules: [
        ...Array.from({ length: schedules }, () => ({ startsAt, seatCount: seats, price })),
        { startsAt, seatCount: 100, price },
      ],
    },
  });
  if (reply.status !== 201) throw new Error(`catalog: ${reply.status} ${reply.text}`);
  const ids = reply.body.schedules.map((s: { id: number }) => s.id) as number[];
  return {
    concertId: reply.body.id,
    bigScheduleIds: ids.slice(0, schedules),
    seatsPerSchedule: seats,
    smallScheduleId: ids[schedules]!,
  };
}

/** BENCH_CPU_PROF=<dir> profiles each server under test (node --cpu-prof), one file per server. */
export function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

export async function bookingServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ env: benchEnv(env), nodeArgs: profileArgs() });
}
