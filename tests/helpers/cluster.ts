// Starts a cluster of real server processes for tests (issue 15): a private nats-server, a fresh
// PostgreSQL database (on the run's private cluster under the postgres project, else on a private
// cluster of its own), and N nodes of dist/src/main.js on free ports with NODE_ID node1..N, each
// with its own DATA_DIR; nodes can be killed (any signal), restarted, and stopped together. The
// single-server harness (server.ts) supplies the process launch, the environment and the per-test
// databases.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { ownerOf } from "../../src/cluster/placement.js";
import { type NatsServer, startNats } from "./nats.js";
import { createDatabase, databaseUrl, type PostgresCluster, startPostgres } from "./postgres.js";
import {
  dropTestDatabase,
  launchServer,
  ServerExitedError,
  type ServerOptions,
  TEST_ADMIN_TOKEN,
  TEST_AUTH_SECRET,
  type TestServer,
  testDatabase,
  testServerEnv,
} from "./server.js";

export interface ClusterOptions {
  /** How many nodes (default 3), named node1..nodeN. */
  nodes?: number;
  /** Extra environment for every node (HOLD_TTL_MS, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Numbers (1-based) of the nodes that own nothing (NODE_OWNS=0): gateways only. */
  gateways?: readonly number[];
  /** Extra environment for node `n` (1-based), applied after `env`. */
  nodeEnv?: (n: number) => Record<string, string>;
}

/** How a node's process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A node that exited when it should not have (before listening, or during a test), with all it printed. */
export class NodeExitedError extends Error {
  constructor(
    readonly nodeId: string,
    readonly exit: NodeExit,
    readonly output: string,
    when: string,
  ) {
    super(`${nodeId} exited ${describeExit(exit)} ${when}:\n${output}`);
  }
}

export interface ClusterNode {
  /** `node<n>`, its NODE_ID. */
  readonly id: string;
  /** 1-based. */
  readonly n: number;
  /** NODE_OWNS: false for a gateway. */
  readonly owns: boolean;
  readonly dataDir: string;
  /** The port it listens on now (a restart picks a new one). */
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** ws://127.0.0.1:PORT/v1/ws */
  readonly wsUrl: string;
  /** The current process (a new one after restart()). */
  readonly child: ChildProcess;
  /** Every line it printed, over all its restarts. */
  readonly logs: string[];
  /** The lines its current process printed (since its last start). */
  currentLogs(): string[];
  /** Whether its current process is still running. */
  running(): boolean;
  /**
   * Sends `signal` (SIGKILL by default: a crash) and resolves once the process is gone. SIGSTOP and
   * SIGCONT only pause and resume it (a node cut off without dying) and resolve at once.
   */
  kill(signal?: NodeJS.Signals): Promise<NodeExit | undefined>;
  /** SIGTERM (a clean shutdown) and wait for the exit. */
  stop(): Promise<NodeExit>;
  /**
   * Start it again after kill()/stop(): same NODE_ID, DATA_DIR and environment, on a NEW port (read
   * `url` again): after a kill its old port can stay taken for up to a minute by the connections
   * that were open (the server does not set SO_REUSEADDR), so a restart there would fail.
   */
  restart(): Promise<void>;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** The cluster's private nats-server: kill() it and restart() it on the same port to test reconnects. */
  nats: NatsServer;
  /** The nodes' DATABASE_URL: audit or tamper with the shared tables. */
  databaseUrl: string;
  authSecret: string;
  adminToken: string;
  /** Throws NodeExitedError (with its logs) if a node exited that no kill()/stop() asked for. */
  assertRunning(): void;
  /** Starts node N+1 with the cluster's environment (a node joining). */
  addNode(options?: { owns?: boolean; env?: Record<string, string> }): Promise<ClusterNode>;
  /**
   * Resolves once every room (the site room and one per on-sale) has a live lease whose node says
   * it serves the room under that epoch: before that, its requests are 503 (moving). startCluster
   * waits for it; tests call it again after kills and restarts.
   */
  serving(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, SIGKILL after 10 s), then NATS; drops the database and removes the temp dir. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;

function describeExit(exit: NodeExit): string {
  return exit.signal ? `on ${exit.signal}` : `with code ${exit.code}`;
}

/** The (room, epoch) pairs a node's current process says it serves now: rebuilt and not lost since. */
function servedBy(node: ClusterNode): Set<string> {
  const served = new Set<string>();
  const logs = node.currentLogs();
  for (const line of logs) {
    if (!line.includes('"room"')) continue;
    let entry: { msg?: string; room?: number; concertId?: number; epoch?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.msg === "room rebuilt from PostgreSQL; serving it") served.add(`${entry.room}@${entry.epoch}`);
  }
  for (const line of logs) {
    if (!line.includes("concert lease lost")) continue;
    const entry = JSON.parse(line) as { concertId: number; epoch: number };
    served.delete(`${entry.concertId}@${entry.epoch}`);
  }
  return served;
}

/**
 * Polls until every room of the database has a live lease held by a running node that serves it
 * under that epoch, and that node is the one rendezvous hashing picks among the live owning nodes
 * (else the room is about to move: a node that started a little later has not been counted yet).
 */
async function roomsServed(url: string, nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const rooms = await sql<{ room: number; node: string | null; epoch: number | null }[]>`
        SELECT r.room::int AS room, l.node_id AS node, l.epoch::int AS epoch
        FROM (SELECT 0 AS room UNION SELECT concert_id FROM onsales) AS r
        LEFT JOIN leases l ON l.concert_id = r.room
          AND l.expires_at > floor(extract(epoch FROM clock_timestamp()) * 1000)`;
      const live = nodes.filter((node) => node.owns && node.running()).map((node) => node.id);
      const missing = rooms.filter(({ room, node, epoch }) => {
        const holder = nodes.find((candidate) => candidate.id === node && candidate.running());
        return holder === undefined || ownerOf(room, live) !== node || !servedBy(holder).has(`${room}@${epoch}`);
      });
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`rooms not served after ${timeoutMs} ms: ${missing.map((r) => r.room).join(", ")}`);
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  } finally {
    await sql.end();
  }
}

/** The run's PostgreSQL (postgres project) or a private one, and a fresh database on it. */
async function clusterDatabase(root: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (process.env.TEST_POSTGRES_ADMIN_URL) {
    const name = await testDatabase(root);
    return { url: databaseUrl(process.env.TEST_POSTGRES_ADMIN_URL, name), drop: () => dropTestDatabase(name) };
  }
  const postgres: PostgresCluster = await startPostgres();
  await createDatabase(postgres.url, "tickets");
  return { url: databaseUrl(postgres.url, "tickets"), drop: () => postgres.stop() };
}

interface NodeSpec {
  n: number;
  owns: boolean;
  env: Record<string, string>;
}

/** Starts node `spec.n`; rejects with NodeExitedError when it exits before listening. */
async function startNode(root: string, shared: Record<string, string>, spec: NodeSpec) {
  const id = `node${spec.n}`;
  const dataDir = join(root, id);
  mkdirSync(dataDir, { recursive: true });
  const env: Record<string, string> = {
    ...testServerEnv(dataDir),
    ...shared,
    NODE_ID: id,
    NODE_OWNS: spec.owns ? "1" : "0",
    ...spec.env,
  };
  const logs: string[] = [];
  /** Where the current process's lines begin in `logs`. */
  let lifeStart = 0;
  const launch = async () => {
    lifeStart = logs.length;
    try {
      return await launchServer(env, { logs });
    } catch (error) {
      if (!(error instanceof ServerExitedError)) throw error;
      const exit = { code: error.exitCode, signal: null };
      throw new NodeExitedError(id, exit, error.output, "before listening");
    }
  };
  let current = await launch();
  let exitAsked = false;
  /** Set when the current process ended without kill()/stop() asking for it. */
  let unexpected: NodeExit | undefined;
  const watch = () => {
    const launched = current;
    exitAsked = false;
    // "close": the output has ended too, so the logs are complete when a test reports them.
    launched.closed.then(() => {
      if (!exitAsked) unexpected = { code: launched.child.exitCode, signal: launched.child.signalCode };
    });
  };
  watch();
  const running = () => current.child.exitCode === null && current.child.signalCode === null;
  const ended = async (): Promise<NodeExit> => {
    await current.closed;
    return { code: current.child.exitCode, signal: current.child.signalCode };
  };
  const node: ClusterNode = {
    id,
    n: spec.n,
    owns: spec.owns,
    dataDir,
    get port() {
      return current.port;
    },
    get url() {
      return `http://127.0.0.1:${current.port}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${current.port}/v1/ws`;
    },
    get child() {
      return current.child;
    },
    logs,
    currentLogs: () => logs.slice(lifeStart),
    running,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (signal === "SIGSTOP" || signal === "SIGCONT") {
        if (running()) current.child.kill(signal);
        return undefined;
      }
      if (running()) {
        exitAsked = true;
        current.child.kill(signal);
      }
      return ended();
    },
    async stop() {
      if (running()) {
        exitAsked = true;
        current.child.kill("SIGCONT"); // a paused node could not shut down
        current.child.kill("SIGTERM");
        const tooLong = setTimeout(() => current.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await current.closed;
        clearTimeout(tooLong);
      }
      return ended();
    },
    async restart() {
      if (running()) throw new Error(`${id} is still running: kill() or stop() it first`);
      await current.closed; // the watcher of the ended process has run: its exit is not reported later
      unexpected = undefined;
      current = await launch();
      watch();
    },
  };
  return { node, unexpected: () => unexpected };
}

/** Starts NATS, a database and the nodes (all at once); on any failure stops what it started and rethrows. */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 3;
  const gateways = new Set(options.gateways ?? []);
  const root = mkdtempSync(join(tmpdir(), "ticketing-cluster-test-"));
  const started: { node: ClusterNode; unexpected: () => NodeExit | undefined }[] = [];
  let nats: NatsServer | undefined;
  let database: { url: string; drop: () => Promise<void> } | undefined;

  const stop = async () => {
    await Promise.allSettled(started.map(({ node }) => node.stop()));
    await nats?.stop().catch(() => {});
    await database?.drop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };

  try {
    nats = await startNats();
    database = await clusterDatabase(root);
    const shared = {
      NATS_URL: nats.url,
      DATABASE_URL: database.url,
      AUTH_SECRET: TEST_AUTH_SECRET,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...options.env,
    };
    const spec = (n: number, owns: boolean, env: Record<string, string> = {}): NodeSpec => ({
      n,
      owns,
      env: { ...options.nodeEnv?.(n), ...env },
    });
    const add = async (nodeSpec: NodeSpec) => {
      const entry = await startNode(root, shared, nodeSpec);
      started.push(entry);
      return entry.node;
    };
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => add(spec(i + 1, !gateways.has(i + 1)))),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    started.sort((a, b) => a.node.n - b.node.n);
    const nodes = started.map(({ node }) => node);
    const serving = (timeoutMs = 20_000) => roomsServed(database!.url, nodes, timeoutMs);
    await serving();
    return {
      serving,
      nodes,
      nats,
      databaseUrl: database.url,
      authSecret: TEST_AUTH_SECRET,
      adminToken: TEST_ADMIN_TOKEN,
      assertRunning() {
        for (const { node, unexpected } of started) {
          const exit = unexpected();
          if (exit) throw new NodeExitedError(node.id, exit, node.logs.join("\n"), "during the test");
        }
      },
      async addNode(extra = {}) {
        const node = await add(spec(started.length + 1, extra.owns ?? true, extra.env));
        nodes.push(node);
        return node;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * startServer in the vitest project "cluster": three nodes on the run's PostgreSQL and their own
 * nats-server, behind the TestServer of node3, which owns nothing, so that every op the contract
 * suites send crosses the cluster (forwarded to an owner, or run against PostgreSQL). `env` goes
 * to every node; stop() and kill() end the whole cluster.
 */
export async function startClusterServer(options: ServerOptions = {}): Promise<TestServer> {
  // A restart (startServer with the dataDir of a server that was killed or stopped): the same cluster, its nodes started again.
  const known = options.dataDir === undefined ? undefined : clustersByDataDir.get(options.dataDir);
  if (known !== undefined) {
    for (const node of known.nodes) await node.restart();
    await known.serving();
    return gatewayServer(known);
  }
  const cluster = await startCluster({
    nodes: 3,
    gateways: [3],
    env: { CLUSTER_LEASE_MS: "3000", ...options.env },
  });
  clustersByDataDir.set(cluster.nodes[2]!.dataDir, cluster);
  return gatewayServer(cluster);
}

/** A node as the client helpers (tests/helpers/client.ts) address a server. */
export function nodeServer(node: ClusterNode, cluster: TestCluster): TestServer {
  return { url: node.url, port: node.port, wsUrl: node.wsUrl, adminToken: cluster.adminToken } as TestServer;
}

/** Clusters of startClusterServer by their gateway's data directory (what a restart names). */
const clustersByDataDir = new Map<string, TestCluster>();

function gatewayServer(cluster: TestCluster): TestServer {
  const gateway = cluster.nodes[2]!;
  return {
    port: gateway.port,
    url: gateway.url,
    wsUrl: gateway.wsUrl,
    dataDir: gateway.dataDir,
    databaseUrl: cluster.databaseUrl,
    authSecret: cluster.authSecret,
    adminToken: cluster.adminToken,
    child: gateway.child,
    logs: gateway.logs,
    /** SIGTERM to every node (the gateway's exit code); NATS and the database stay for a restart. */
    async stop() {
      const [exit] = await Promise.all(
        [gateway, ...cluster.nodes.slice(0, 2)].map((node) => (node.running() ? node.stop() : undefined)),
      );
      return exit?.code ?? null;
    },
    /** SIGKILL to every node: the whole cluster crashes; NATS and the database stay for a restart. */
    async kill() {
      await Promise.all(cluster.nodes.map((node) => (node.running() ? node.kill() : undefined)));
    },
    async cleanup() {
      clustersByDataDir.delete(gateway.dataDir);
      await cluster.stop();
    },
  };
}
