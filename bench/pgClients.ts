// `npm run bench:pg-clients [-- --seconds=5 --rounds=3]`: the two PostgreSQL clients, `postgres`
// (porsager) and `pg` (node-postgres), on one private cluster as durable as production (fsync,
// full_page_writes, synchronous_commit on), in the same run: (a) single-row commits per second,
// (b) the group-commit mix. A table on stdout and bench/results/pg-clients.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { createDatabase, databaseUrl, startPostgres } from "../tests/helpers/postgres.js";
import { createHistogram, type Histogram, type LatencySummary, recordMs, summarize } from "./lib/histogram.js";
import { type BatchOutcome, type Driver, nodePostgresDriver, porsagerDriver, type Write } from "./lib/pgDrivers.js";
import { cpuPressureMicros, cpuSeconds } from "./lib/processes.js";
import { machine } from "./lib/report.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const SECONDS = flag("seconds", 5);
const ROUNDS = flag("rounds", 3);
const HOLDS_PER_BATCH = 150;
const CHARGES_PER_BATCH = 50;
const WALLETS = 1000;
/** Every fifth wallet is empty, so about a fifth of the charges are declined (savepoint rolled back). */
const EMPTY_WALLET_EVERY = 5;
const FULL_BALANCE = 1_000_000_000_000;

const SCHEMA = `
  CREATE TABLE commits (id bigserial PRIMARY KEY, user_id text NOT NULL, amount int NOT NULL, created_at bigint NOT NULL);
  CREATE TABLE holds (id bigint PRIMARY KEY, user_id text NOT NULL, schedule_id int NOT NULL, seat_no int NOT NULL,
    price int NOT NULL, expires_at bigint NOT NULL, created_at bigint NOT NULL);
  CREATE INDEX holds_user ON holds (user_id);
  CREATE TABLE wallets (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
  CREATE TABLE ledger (id bigserial PRIMARY KEY, wallet_id int NOT NULL REFERENCES wallets, amount int NOT NULL,
    created_at bigint NOT NULL);
`;

interface Row {
  client: Driver["name"];
  id: string;
  title: string;
  unit: string;
  /** Per round, then their mean. */
  rounds: number[];
  throughput: number;
  /** Over every round's commits or batches. */
  /** Writes (holds + charges) per second, for the batches. */
  writesPerSecond?: number;
  latency: LatencySummary;
  /** Means over the rounds. */
  figures: Record<string, number>;
  audit: { ok: boolean; problems: string[] };
}

/** A row of the table from the rounds of one client on one scenario. */
function summarizeRounds(client: Driver["name"], scenario: Scenario, runs: Measurement[]): Row {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const histogram = createHistogram();
  for (const run of runs) histogram.add(run.histogram);
  const throughput = Math.round(mean(runs.map((r) => r.rate)));
  const figures = Object.fromEntries(
    Object.keys(runs[0]!.figures).map((name) => [name, round3(mean(runs.map((r) => r.figures[name]!)))]),
  );
  const problems = runs.flatMap((r) => r.problems);
  return {
    client,
    id: scenario.id,
    title: scenario.title,
    unit: scenario.unit,
    rounds: runs.map((r) => Math.round(r.rate)),
    throughput,
    ...(scenario.unit === "batches/s" ? { writesPerSecond: throughput * (HOLDS_PER_BATCH + CHARGES_PER_BATCH) } : {}),
    latency: summarize(histogram),
    figures,
    audit: { ok: problems.length === 0, problems },
  };
}

let nextHoldId = 1;
let seed = 42;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

/** 150 holds and 50 charges, a charge after every third hold (arrival order in the commit queue). */
function makeBatch(): Write[] {
  const now = Date.now();
  const batch: Write[] = [];
  for (let i = 0; i < CHARGES_PER_BATCH; i++) {
    for (let j = 0; j < HOLDS_PER_BATCH / CHARGES_PER_BATCH; j++) {
      const id = nextHoldId++;
      const hold = {
        id,
        userId: `u${id % 5000}`,
        scheduleId: 1 + (id % 8),
        seatNo: id % 2000,
        price: 1000,
        expiresAt: now + 300_000,
        createdAt: now,
      };
      batch.push({ kind: "hold", hold });
    }
    const charge = {
      walletId: 1 + Math.floor(random() * WALLETS),
      amount: 1 + Math.floor(random() * 1000),
      createdAt: now,
    };
    batch.push({ kind: "charge", charge });
  }
  return batch;
}

/** Same starting point for every measurement: empty tables, refilled wallets, a fresh checkpoint. */
async function reset(sql: postgres.Sql): Promise<void> {
  await sql`TRUNCATE commits, holds, ledger`;
  await sql`UPDATE wallets SET balance = CASE WHEN id % ${EMPTY_WALLET_EVERY} = 0 THEN 0 ELSE ${FULL_BALANCE}::bigint END`;
  await sql`VACUUM ANALYZE`;
  await sql`CHECKPOINT`;
}

interface Measurement {
  rate: number;
  histogram: Histogram;
  problems: string[];
  figures: Record<string, number>;
}

/**
 * Runs `step` back to back for SECONDS (after a short warm-up), timing each, and what it cost: CPU
 * of this process (the client) and of the backend serving it, per step; and the share of the time
 * some task on the machine waited for a CPU (other work on this shared 2-core VM shows there).
 */
async function timed<T>(driver: Driver, step: () => Promise<T>, each: (result: T) => void = () => {}) {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) await step();
  const backend = await driver.backendPid();
  const histogram = createHistogram();
  const client = process.cpuUsage();
  const server = cpuSeconds(backend);
  const pressure = cpuPressureMicros();
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < SECONDS * 1000) {
    const t0 = performance.now();
    each(await step());
    recordMs(histogram, performance.now() - t0);
    count++;
  }
  const elapsedMs = performance.now() - started;
  const clientCpu = process.cpuUsage(client);
  const figures = {
    clientCpuMsPerOp: round3((clientCpu.user + clientCpu.system) / 1000 / count),
    serverCpuMsPerOp: round3(((cpuSeconds(backend) - server) * 1000) / count),
    machineCpuPressure: round3((cpuPressureMicros() - pressure) / (elapsedMs * 1000)),
  };
  return { count, rate: count / (elapsedMs / 1000), histogram, figures };
}

const round3 = (n: number) => Number(n.toFixed(3));

async function measureCommits(sql: postgres.Sql, driver: Driver, inTransaction: boolean): Promise<Measurement> {
  await reset(sql);
  let i = 0;
  const run = await timed(driver, () =>
    inTransaction ? driver.insertInTransaction(i++) : driver.insertAutocommit(i++),
  );
  const [{ rows }] = await sql<[{ rows: number }]>`SELECT count(*)::int AS rows FROM commits`;
  const problems = rows === i ? [] : [`${i} commits acknowledged, ${rows} rows`];
  return { ...run, problems };
}

async function measureMix(
  sql: postgres.Sql,
  driver: Driver,
  batchOf: (batch: Write[]) => Promise<BatchOutcome>,
): Promise<Measurement> {
  await reset(sql);
  const [{ total: before }] = await sql<[{ total: string }]>`SELECT sum(balance)::bigint AS total FROM wallets`;
  let declined = 0;
  let statements = 0;
  let waits = 0;
  const run = await timed(
    driver,
    () => batchOf(makeBatch()),
    (outcome) => {
      declined += outcome.declined;
      statements += outcome.statements;
      waits += outcome.waits;
    },
  );
  const batches = run.count;
  // The audit: every hold and every accepted charge is there, and the money adds up (warm-up included).
  const [facts] = await sql<{ holds: number; spent: string; after: string }[]>`SELECT
    (SELECT count(*)::int FROM holds) AS holds,
    (SELECT coalesce(sum(amount), 0)::bigint FROM ledger) AS spent,
    (SELECT sum(balance)::bigint FROM wallets) AS after`;
  const problems: string[] = [];
  if (facts!.holds % HOLDS_PER_BATCH !== 0 || facts!.holds < batches * HOLDS_PER_BATCH)
    problems.push(`${facts!.holds} holds for ${batches}+ batches`);
  if (BigInt(before) - BigInt(facts!.after) !== BigInt(facts!.spent)) problems.push("wallets and ledger disagree");
  if (declined === 0) problems.push("no charge was declined");
  const figures = {
    ...run.figures,
    declinedShare: round3(declined / (batches * CHARGES_PER_BATCH)),
    statementsPerBatch: Number((statements / batches).toFixed(1)),
    waitsPerBatch: Number((waits / batches).toFixed(1)),
  };
  return { ...run, problems, figures };
}

interface Scenario {
  id: string;
  title: string;
  unit: "commits/s" | "batches/s";
  run(sql: postgres.Sql, driver: Driver): Promise<Measurement>;
}

const SCENARIOS: Scenario[] = [
  {
    id: "a.autocommit",
    title: "one INSERT per transaction (autocommit)",
    unit: "commits/s",
    run: (sql, driver) => measureCommits(sql, driver, false),
  },
  {
    id: "a.begin",
    title: "BEGIN; INSERT; COMMIT",
    unit: "commits/s",
    run: (sql, driver) => measureCommits(sql, driver, true),
  },
  {
    id: "b.mix",
    title: "batch: 150 INSERTs + 50 charges in SAVEPOINTs",
    unit: "batches/s",
    run: (sql, driver) => measureMix(sql, driver, driver.mixWithSavepoints),
  },
  {
    id: "b.mix.multirow",
    title: "batch: 1 INSERT of 150 rows + 50 charges in SAVEPOINTs",
    unit: "batches/s",
    run: (sql, driver) => measureMix(sql, driver, driver.mixMultiRowHolds),
  },
  {
    id: "b.onestatement",
    title: "batch: 1 INSERT of 150 rows + 50 charges as one statement each (no SAVEPOINT)",
    unit: "batches/s",
    run: (sql, driver) => measureMix(sql, driver, driver.mixSingleStatementCharges),
  },
];

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const cluster = await startPostgres({ durable: true });
  const runs = new Map<string, Measurement[]>();
  try {
    await createDatabase(cluster.url, "bench");
    const url = databaseUrl(cluster.url, "bench");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql.unsafe(SCHEMA);
    await sql`INSERT INTO wallets (id, balance) SELECT g, 0 FROM generate_series(1, ${WALLETS}::int) g`;
    const settings = await sql`SELECT name, setting FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers')`;
    process.stderr.write(`bench: ${cluster.version}, ${settings.map((s) => `${s.name}=${s.setting}`).join(" ")}\n`);

    for (let round = 0; round < ROUNDS; round++) {
      const drivers = [porsagerDriver(url), await nodePostgresDriver(url)];
      // Alternate which client goes first, so neither always gets the fresher machine.
      if (round % 2 === 1) drivers.reverse();
      for (const scenario of SCENARIOS) {
        for (const driver of drivers) {
          process.stderr.write(`bench: round ${round + 1} ${driver.name} ${scenario.id}...\n`);
          const key = `${driver.name} ${scenario.id}`;
          runs.set(key, [...(runs.get(key) ?? []), await scenario.run(sql, driver)]);
        }
      }
      for (const driver of drivers) await driver.close();
    }
    await sql.end();
    const rows = SCENARIOS.flatMap((scenario) =>
      (["postgres", "pg"] as const).map((client) =>
        summarizeRounds(client, scenario, runs.get(`${client} ${scenario.id}`)!),
      ),
    );
    report(startedAt, cluster.version, Object.fromEntries(settings.map((s) => [s.name, s.setting])), rows);
  } finally {
    await cluster.stop();
  }
}

function report(startedAt: string, version: string, settings: Record<string, string>, results: Row[]): void {
  const fmt = (n: number | undefined, digits = 0) =>
    n === undefined ? "" : n.toLocaleString("en-US", { maximumFractionDigits: digits });
  const head = [
    "client",
    "id",
    "throughput (per round)",
    "writes/s",
    "p50 ms",
    "p99 ms",
    "stmts",
    "waits",
    "client CPU ms",
    "server CPU ms",
    "CPU pressure",
    "audit",
  ];
  const table = results.map((r) => [
    r.client,
    r.id,
    `${fmt(r.throughput)} ${r.unit} (${r.rounds.map((x) => fmt(x)).join(", ")})`,
    fmt(r.writesPerSecond),
    fmt(r.latency.p50, 2),
    fmt(r.latency.p99, 2),
    fmt(r.figures.statementsPerBatch, 1),
    fmt(r.figures.waitsPerBatch, 1),
    fmt(r.figures.clientCpuMsPerOp, 3),
    fmt(r.figures.serverCpuMsPerOp, 3),
    fmt(r.figures.machineCpuPressure, 2),
    r.audit.ok ? "ok" : `FAILED: ${r.audit.problems.join("; ")}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  console.log(`\n${version}, ${JSON.stringify(settings)}, ${SECONDS} s x ${ROUNDS} rounds per row`);
  for (const scenario of SCENARIOS) console.log(`  ${scenario.id}: ${scenario.title}`);
  console.log("  (p50/p99 of one commit or batch; stmts and waits per batch; CPU ms per commit or batch)\n");
  console.log(`${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of table) console.log(line(row));
  const dir = join(import.meta.dirname, "../../bench/results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "pg-clients.json");
  const json = {
    startedAt,
    machine: machine(),
    postgres: { version, settings },
    seconds: SECONDS,
    rounds: ROUNDS,
    results,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
  if (results.some((r) => !r.audit.ok)) process.exitCode = 1;
}

await main();
