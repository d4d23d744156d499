// A cluster under test for `--nodes N` (docs/cluster.md): one private PostgreSQL as durable as the
// `pg` step's, one private nats-server, and N node processes of dist/src/main.js on free ports
// (node1 first and alone: it migrates the empty database; then the others together, as
// `npm run cluster` does). Which node owns a room is read from the leases table once rendezvous
// hashing over the live nodes agrees with it. CPU readings cover every process of the cluster.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServer, startNats } from "../../src/cluster/localNats.js";
import { createDatabase, databaseUrl, type PostgresCluster, startPostgres } from "../../src/cluster/localPostgres.js";
import { ownerOf } from "../../src/cluster/placement.js";
import { connect } from "../../src/store/postgres/connect.js";
import {
  type LaunchedServer,
  launchServer,
  TEST_ADMIN_TOKEN,
  TEST_AUTH_SECRET,
  testServerEnv,
} from "../../tests/helpers/server.js";
import { benchEnv, profileArgs, serverMain } from "./context.js";
import { cpuSeconds } from "./processes.js";

export interface BenchNode {
  /** node1..nodeN, its NODE_ID. */
  id: string;
  url: string;
  wsUrl: string;
  port: number;
  pid: number;
  server: LaunchedServer;
}

export interface BenchCluster {
  nodes: BenchNode[];
  databaseUrl: string;
  adminToken: string;
  postgresVersion: string;
  natsVersion: string;
  natsUrl: string;
  /** The node that owns `room` once the leases agree with rendezvous hashing over every node (and it serves it). */
  ownerOf(room: number, timeoutMs?: number): Promise<BenchNode>;
  /** `node:epoch` of each room's lease now: a room that moved during a phase shows a new one. */
  leases(): Promise<Record<string, string>>;
  /**
   * How many warning and error lines the nodes have logged so far, and the distinct messages, with
   * every lease a node lost (and why: its lifecycle lines are logged at info, which the nodes run at).
   */
  warnings(): { count: number; messages: string[] };
  /**
   * CPU seconds so far of every node (by id), nats-server, PostgreSQL (all its processes), as
   * `load` the processes `loadPids` (generators; one that has exited counts 0), and as `machine`
   * every CPU of the machine busy (other tenants' work included); and as
   * `<node id>.waiting` the seconds its main thread was ready to run but waited for a CPU.
   */
  cpu(loadPids?: number[]): Record<string, number>;
  /**
   * `work`, or a failure naming the node and its last log lines as soon as a node exits that
   * stop() did not ask to (its sockets' requests would otherwise wait forever).
   */
  whileUp<T>(work: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * CPU seconds of PostgreSQL: its postmaster, the backends running now, and (the postmaster's
 * cutime/cstime) every backend it has reaped, so that a connection closed during a phase does not
 * take its CPU time with it.
 */
function postgresCpuSeconds(postmasterPid: number): number {
  const fieldsOf = (pid: number | string) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const own = fieldsOf(postmasterPid);
  let total = (Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) / 100;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = fieldsOf(name);
      if (Number(fields[1]) === postmasterPid) total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile (its time is in the postmaster's cutime once reaped)
    }
  }
  return total;
}

/** Seconds the main thread of `pid` has spent runnable but waiting for a CPU (its run-queue delay). */
function runQueueWaitSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return (total - fields[3]! - fields[4]!) / 100;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function startBenchCluster(count: number, env: Record<string, string> = {}): Promise<BenchCluster> {
  const root = mkdtempSync(join(tmpdir(), "ticketing-bench-cluster-"));
  const nodes: BenchNode[] = [];
  let postgres: PostgresCluster | undefined;
  let nats: NatsServer | undefined;
  let stopping = false;
  let died: (error: Error) => void = () => {};
  const death = new Promise<never>((_, fail) => {
    died = fail;
  });
  death.catch(() => {});
  const stop = async () => {
    stopping = true;
    await Promise.allSettled(
      nodes.map(async ({ server }) => {
        if (server.child.exitCode !== null || server.child.signalCode !== null) return;
        server.child.kill("SIGTERM");
        const tooLong = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
        await server.exited;
        clearTimeout(tooLong);
      }),
    );
    await nats?.stop().catch(() => {});
    await postgres?.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    [postgres, nats] = await Promise.all([startPostgres({ durable: true }), startNats()]);
    await createDatabase(postgres.url, "tickets");
    const url = databaseUrl(postgres.url, "tickets");
    const launch = async (n: number) => {
      const id = `node${n}`;
      const dataDir = join(root, id);
      const server = await launchServer(
        {
          ...testServerEnv(dataDir),
          // Info: a node's lifecycle lines (a lease lost and why, a room rebuilt); none per request.
          ...benchEnv({ LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info", ...env }),
          NATS_URL: nats!.url,
          DATABASE_URL: url,
          NODE_ID: id,
          NODE_OWNS: "1",
          AUTH_SECRET: TEST_AUTH_SECRET,
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        },
        { nodeArgs: profileArgs(), main: serverMain() },
      );
      const node = {
        id,
        url: `http://127.0.0.1:${server.port}`,
        wsUrl: `ws://127.0.0.1:${server.port}/v1/ws`,
        port: server.port,
        pid: server.child.pid!,
        server,
      };
      nodes.push(node);
      server.closed.then((code) => {
        if (stopping) return;
        const tail = server.logs.slice(-15).join("\n");
        died(new Error(`${id} exited (code ${code}, signal ${server.child.signalCode}) during the run:\n${tail}`));
      });
      return node;
    };
    await launch(1);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => launch(i + 2)));
    nodes.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
    const sql = connect(url, { max: 1 });
    const postmasterPid = Number(readFileSync(join(postgres.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const natsPid = Number(readFileSync(join(nats.dir, "nats.pid"), "utf8"));
    const cluster: BenchCluster = {
      nodes,
      databaseUrl: url,
      adminToken: TEST_ADMIN_TOKEN,
      postgresVersion: postgres.version,
      natsVersion: nats.version,
      natsUrl: nats.url,
      async ownerOf(room, timeoutMs = 30_000) {
        const wanted = ownerOf(
          room,
          nodes.map((node) => node.id),
        );
        const deadline = performance.now() + timeoutMs;
        for (;;) {
          const [row] = await sql<{ node_id: string }[]>`SELECT node_id FROM leases
            WHERE concert_id = ${room} AND expires_at > lease_now(NULL::bigint)`;
          if (row?.node_id === wanted) return nodes.find((node) => node.id === wanted)!;
          if (performance.now() > deadline) {
            throw new Error(`room ${room}: lease held by ${row?.node_id ?? "nobody"}, rendezvous wants ${wanted}`);
          }
          await sleep(100);
        }
      },
      cpu(loadPids = []) {
        const readings: Record<string, number> = {};
        for (const node of nodes) readings[node.id] = cpuSeconds(node.pid);
        readings.nats = cpuSeconds(natsPid);
        readings.postgres = postgresCpuSeconds(postmasterPid);
        // Time each node's main thread was ready to run but waited for a CPU (/proc/<pid>/schedstat).
        for (const node of nodes) readings[`${node.id}.waiting`] = runQueueWaitSeconds(node.pid);
        readings.machine = machineBusySeconds();
        readings.load = 0;
        for (const pid of loadPids) {
          try {
            readings.load += cpuSeconds(pid);
          } catch {
            // exited
          }
        }
        return readings;
      },
      async leases() {
        const rows = await sql<{ concert_id: string; node_id: string; epoch: string }[]>`
          SELECT concert_id::text, node_id, epoch::text FROM leases ORDER BY concert_id`;
        return Object.fromEntries(rows.map((row) => [row.concert_id, `${row.node_id}:${row.epoch}`]));
      },
      warnings() {
        // pino's levels: 40 warn, 50 error, 60 fatal.
        const notable = (line: string) => /"level":(4|5|6)0/.test(line) || line.includes('"concert lease lost"');
        const lines = nodes.flatMap((node) =>
          node.server.logs.filter(notable).map((line) => ({ node: node.id, line })),
        );
        const describe = (line: string) => {
          const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120);
          const lost = /"concertId":(\d+),"epoch":(\d+),"reason":"([^"]*)"/.exec(line);
          return lost ? `${msg} (room ${lost[1]}, epoch ${lost[2]}: ${lost[3]})` : msg;
        };
        const messages = new Set(lines.map(({ node, line }) => `${node}: ${describe(line)}`));
        return { count: lines.length, messages: [...messages] };
      },
      whileUp: (work) => Promise.race([work, death]),
      async stop() {
        await sql.end({ timeout: 5 }).catch(() => {});
        await stop();
      },
    };
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * CPU of a phase by role: cores busy (`cores.<role>`), for a node the share of the phase its main
 * thread waited for a CPU (`waitingShare.<role>`), and, given `units` of work done, microseconds per
 * unit (`<unitName>.<role>`). `roles` names the readings (a node id, nats, postgres, ...) to report.
 */
export function cpuFigures(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
  roles: Record<string, string>,
  units?: { name: string; count: number },
): Record<string, number> {
  const figures: Record<string, number> = {};
  // What the machine's CPUs did besides the roles named: every other process (other tenants of this
  // machine), and kernel work charged to no process.
  if (roles.machine !== undefined) {
    const ours = Object.entries(roles)
      .filter(([role]) => role !== "machine")
      .reduce((sum, [, reading]) => sum + (after[reading]! - before[reading]!), 0);
    figures["cores.others"] = Number(((after.machine! - before.machine! - ours) / seconds).toFixed(2));
  }
  for (const [role, reading] of Object.entries(roles)) {
    const used = after[reading]! - before[reading]!;
    figures[`cores.${role}`] = Number((used / seconds).toFixed(2));
    // A node: the share of the phase its main thread was ready to run but waited for a CPU.
    const waiting = `${reading}.waiting`;
    if (before[waiting] !== undefined) {
      figures[`waitingShare.${role}`] = Number(((after[waiting]! - before[waiting]!) / seconds).toFixed(2));
    }
    if (units && units.count > 0) figures[`${units.name}.${role}`] = Number(((used / units.count) * 1e6).toFixed(1));
  }
  return figures;
}
