// Shared pieces of the fuzz suites: the contract's error codes, the server's RSS, a state fingerprint.
import { readFileSync } from "node:fs";
import { activeToken, createConcert, http } from "../helpers/client.js";
import { openReader } from "../helpers/databaseReader.js";
import { startServer, type TestServer } from "../helpers/server.js";

export { CONTRACT_ERRORS as CONTRACT } from "../helpers/contract.js";

/** Inputs per suite: FUZZ_INPUTS in the long mode (npm run chaos), 10,000 in npm test. */
export const FUZZ_INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);

/** Resident set size of the server process in bytes (Linux /proc). */
export function serverRss(server: TestServer): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb * 1024;
}

export interface StateCounts {
  concerts: number;
  reservations: number;
  liveReservations: number;
  ledger: number;
  ledgerSum: number;
  payments: number;
  idempotency: number;
}

/**
 * Counts read straight from the live database, beside the server: a read-only WAL reader of
 * tickets.db, or a read-only session on its PostgreSQL database.
 */
export async function stateCounts(server: TestServer): Promise<StateCounts> {
  const db = openReader(server);
  try {
    const n = async (sql: string) => (await db.get<{ n: number | null }>(sql))?.n ?? 0;
    return {
      concerts: await n("SELECT COUNT(*) AS n FROM concerts"),
      reservations: await n("SELECT COUNT(*) AS n FROM reservations"),
      liveReservations: await n("SELECT COUNT(*) AS n FROM reservations WHERE status IN ('held','paid')"),
      ledger: await n("SELECT COUNT(*) AS n FROM ledger"),
      ledgerSum: await n("SELECT CAST(SUM(amount) AS BIGINT) AS n FROM ledger"),
      payments: await n("SELECT COUNT(*) AS n FROM payments"),
      idempotency: await n("SELECT COUNT(*) AS n FROM idempotency"),
    };
  } finally {
    await db.close();
  }
}

/** Lets the server's garbage collector settle before an RSS reading. */
export const settle = () => new Promise<void>((done) => setTimeout(done, 300));

/** The server's V8 heap in use (prom-client's default metric), to tell garbage from growth. */
export async function serverHeapUsed(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^ticketing_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
}

/**
 * The server both fuzz suites attack: its V8 heap capped, so a leak becomes a crash the test
 * sees instead of a number that drifts; one 50-seat date; and a victim who holds seat 1 and has
 * money, so that no fuzzed request may touch their hold or balance.
 */
export async function startFuzzServer(victim: string): Promise<{ server: TestServer; victimReservation: number }> {
  const server = await startServer({
    env: {
      RATE_LIMIT_PER_SECOND: "0",
      QUEUE_ACTIVE_MAX: "100000",
      NODE_OPTIONS: `--max-old-space-size=${process.env.FUZZ_MAX_HEAP_MB ?? 96}`,
    },
  });
  await createConcert(server, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 50, price: 1000 }]);
  const hold = await http(server, "POST", "/v1/reservations", {
    user: victim,
    queueToken: await activeToken(server, victim),
    body: { scheduleId: 1, seatNo: 1 },
  });
  if (hold.status !== 201) throw new Error(`victim hold: ${hold.status} ${hold.text}`);
  await http(server, "POST", "/v1/balance/charge", { user: victim, body: { amount: 5000 } });
  return { server, victimReservation: hold.body.reservationId };
}
