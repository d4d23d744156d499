// `npm run cluster`: a whole cluster on this machine to try it out (docs/cluster.md). A private
// PostgreSQL and nats-server on free ports, then one node per port of CLUSTER_PORTS (8081,8082,8083
// by default): node1 first, alone, seeding the demo catalog, then the others. Each node has its own
// data dir and log file in a temp dir. Ctrl-C or SIGTERM stops the nodes, then NATS, then
// PostgreSQL, and removes every temp dir. For a deployment, see compose.yaml.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type NatsServer, natsBinary, startNats } from "./localNats.js";
import { createDatabase, databaseUrl, type PostgresCluster, postgresBinDir, startPostgres } from "./localPostgres.js";

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));
const STOP_TIMEOUT_MS = 15_000;
/** What the program sets for each node; the rest of its environment passes through (LOG_LEVEL, HOLD_TTL_MS, ...). */
const PER_NODE = ["NATS_URL", "DATABASE_URL", "NODE_ID", "NODE_OWNS", "DATA_DIR", "PORT", "SEED_DEMO"];

interface Node {
  id: string;
  logFile: string;
  child: ChildProcess;
  /** From its "listening" line; empty until then. */
  url: string;
  /** Resolves once it has exited and its output is in the log. */
  closed: Promise<void>;
  /** Set when we asked it to stop: its exit is then no news. */
  stopping: boolean;
}

const say = (line: string) => process.stdout.write(`cluster: ${line}\n`);
const fail = (line: string) => process.stderr.write(`cluster: ${line}\n`);

/** CLUSTER_PORTS: comma-separated, one node each; 0 lets that node pick a free port. */
function clusterPorts(value: string | undefined): number[] {
  if (value === undefined || value.trim() === "") return [8081, 8082, 8083];
  const ports = value.split(",").map((part) => Number(part.trim()));
  const bad = ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65535);
  const fixed = ports.filter((port) => port !== 0);
  if (bad || new Set(fixed).size !== fixed.length) {
    throw new Error(`CLUSTER_PORTS must be distinct ports separated by commas (0: any free port), got "${value}"`);
  }
  return ports;
}

function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

const exitText = (child: ChildProcess) =>
  child.signalCode ? `on ${child.signalCode}` : `with code ${String(child.exitCode)}`;

/**
 * Starts one node in a process group of its own (a terminal's Ctrl-C reaches only this program,
 * which stops the nodes before NATS and PostgreSQL) with its output in `logFile`, and adds it to
 * `nodes` at once (so a stop also stops a node still starting); resolves once it logs
 * "listening", rejects with the log's tail when it exits first.
 */
function startNode(id: string, env: NodeJS.ProcessEnv, logFile: string, nodes: Node[]): Promise<Node> {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const closed = new Promise<void>((done) => child.once("close", () => log.end(done)));
  const node: Node = { id, logFile, child, url: "", closed, stopping: false };
  nodes.push(node);
  return new Promise((done, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (node.url !== "" || !line.includes('"listening"')) return;
      node.url = (JSON.parse(line) as { url: string }).url;
      done(node);
    });
    closed.then(() =>
      reject(new Error(`${id} exited ${exitText(child)} before listening; ${logFile}:\n${logTail(logFile)}`)),
    );
  });
}

/** SIGTERM (the node's clean shutdown), SIGKILL if it takes longer than STOP_TIMEOUT_MS. */
async function stopNode(node: Node): Promise<void> {
  node.stopping = true;
  if (node.child.exitCode === null && node.child.signalCode === null) {
    node.child.kill("SIGTERM");
    const tooLong = setTimeout(() => node.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await node.closed;
    clearTimeout(tooLong);
  }
}

/** What is missing to run the cluster, as one message; undefined when nothing is. */
function missingBinaries(): string | undefined {
  const missing = [
    postgresBinDir() === undefined
      ? "PostgreSQL's server binaries (initdb, postgres under /usr/lib/postgresql/*/bin, or PG_BIN_DIR)"
      : undefined,
    natsBinary() === undefined ? "nats-server (/usr/sbin/nats-server, on PATH, or NATS_SERVER_BIN)" : undefined,
  ].filter((what) => what !== undefined);
  return missing.length === 0 ? undefined : `needs ${missing.join(" and ")}: apt-get install postgresql nats-server`;
}

/** Secrets from the environment, or made up for this run (then printed: the run is throw-away). */
function secrets(): { authSecret: string; adminToken: string; generated: string[] } {
  const generated: string[] = [];
  const pick = (name: "AUTH_SECRET" | "ADMIN_TOKEN") => {
    const given = process.env[name];
    if (given !== undefined) return given;
    const made = randomBytes(32).toString("base64url");
    generated.push(`${name}=${made}`);
    return made;
  };
  return { authSecret: pick("AUTH_SECRET"), adminToken: pick("ADMIN_TOKEN"), generated };
}

/** The services, the nodes, and the order in which they start and stop. */
class LocalCluster {
  private readonly root = mkdtempSync(join(tmpdir(), "ticketing-cluster-"));
  private readonly nodes: Node[] = [];
  private postgres: PostgresCluster | undefined;
  private nats: NatsServer | undefined;
  private phase: "starting" | "running" | "stopping" = "starting";
  /** A signal came (while starting, the start checks this between steps). */
  private stopAsked = false;
  private firstSignalAt = 0;
  private finish: (code: number) => void = () => {};
  /** Resolves with the exit code once everything is stopped and removed. */
  readonly finished = new Promise<number>((done) => {
    this.finish = done;
  });

  constructor(private readonly ports: number[]) {
    process.on("SIGINT", (signal) => this.onSignal(signal));
    process.on("SIGTERM", (signal) => this.onSignal(signal));
    // Should this program die of an error anyway, its nodes must not outlive it (NATS and
    // PostgreSQL are reaped by the next run, as their temp dirs name their dead owner).
    process.on("exit", () => {
      for (const node of this.nodes) if (node.child.exitCode === null) node.child.kill("SIGKILL");
    });
  }

  async start(): Promise<void> {
    try {
      const database = await this.startServices();
      if (this.stopAsked) return this.shutdown(0);
      const { authSecret, adminToken, generated } = secrets();
      const shared = {
        NATS_URL: this.nats!.url,
        DATABASE_URL: database,
        AUTH_SECRET: authSecret,
        ADMIN_TOKEN: adminToken,
      };
      // The first node alone: it migrates the empty database and loads the demo catalog.
      await this.launch(0, shared);
      if (!this.stopAsked) await Promise.all(this.ports.slice(1).map((_, i) => this.launch(i + 1, shared)));
      if (this.stopAsked) return this.shutdown(0);
      if (generated.length > 0) say(`generated for this run: ${generated.join(" ")}`);
      const count = this.nodes.length === 1 ? "1 node" : `${this.nodes.length} nodes`;
      say(`${count} up; open ${this.nodes[0]!.url}/ (any node). Ctrl-C stops them all and removes ${this.root}`);
      this.phase = "running";
    } catch (error) {
      // A Ctrl-C while starting also interrupts initdb: that is the stop asked for, not news.
      if (!this.stopAsked) fail(error instanceof Error ? error.message : String(error));
      await this.shutdown(this.stopAsked ? 0 : 1);
    }
  }

  /** PostgreSQL and NATS side by side; resolves the nodes' DATABASE_URL. */
  private async startServices(): Promise<string> {
    const [pg, bus] = await Promise.allSettled([startPostgres({ detached: true }), startNats({ detached: true })]);
    if (pg.status === "fulfilled") this.postgres = pg.value;
    if (bus.status === "fulfilled") this.nats = bus.value;
    if (pg.status === "rejected") throw pg.reason;
    if (bus.status === "rejected") throw bus.reason;
    const postgres = pg.value;
    await createDatabase(postgres.url, "tickets");
    const database = databaseUrl(postgres.url, "tickets");
    say(`${postgres.version} at ${database} (log: ${join(postgres.dataDir, "..", "log")})`);
    say(`${bus.value.version} at ${bus.value.url} (log: ${join(bus.value.dir, "nats.log")})`);
    return database;
  }

  /** The environment of node `index`: this program's own, with the cluster's settings on top. */
  private nodeEnv(index: number, shared: Record<string, string>): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !PER_NODE.includes(key)));
    const devLogin = process.env.NODE_ENV === "production" || process.env.DEV_LOGIN !== undefined;
    return {
      ...inherited,
      HOST: process.env.HOST ?? "127.0.0.1",
      // Every node's demo page can sign in, not only the seeding node's (dev login follows SEED_DEMO).
      ...(devLogin ? {} : { DEV_LOGIN: "1" }),
      ...shared,
      NODE_ID: `node${index + 1}`,
      DATA_DIR: join(this.root, `node${index + 1}`),
      PORT: String(this.ports[index]),
      SEED_DEMO: index === 0 ? (process.env.SEED_DEMO ?? "1") : "0",
    };
  }

  private async launch(index: number, shared: Record<string, string>): Promise<void> {
    const id = `node${index + 1}`;
    mkdirSync(join(this.root, id));
    const node = await startNode(id, this.nodeEnv(index, shared), join(this.root, `${id}.log`), this.nodes);
    node.closed.then(() => this.onExit(node));
    say(`${id} ${node.url} (log: ${node.logFile})${index === 0 ? ", the first: seeds the demo catalog" : ""}`);
  }

  /** A node that exits by itself is reported; the others go on (killing one is a fair test) unless none is left. */
  private onExit(node: Node): void {
    if (node.stopping || this.phase === "stopping") return;
    fail(`${node.id} exited ${exitText(node.child)}; the last lines of ${node.logFile}:\n${logTail(node.logFile)}`);
    const running = (other: Node) => other.child.exitCode === null && other.child.signalCode === null;
    if (!this.nodes.some(running)) {
      fail("no node left");
      void this.shutdown(1);
    }
  }

  private onSignal(signal: NodeJS.Signals): void {
    // A terminal's Ctrl-C reaches both npm and this program, and npm forwards it: one press can
    // arrive twice. Only a press a while later means "stop now".
    if (this.stopAsked || this.phase === "stopping") {
      if (Date.now() - this.firstSignalAt < 2_000) return;
      fail(`${signal} again: killing the nodes`);
      for (const node of this.nodes) node.child.kill("SIGKILL");
      return;
    }
    this.firstSignalAt = Date.now();
    this.stopAsked = true;
    if (this.phase === "running") void this.shutdown(0);
  }

  /** The nodes first (they may still be committing), then NATS, then PostgreSQL, then the temp dir. */
  private async shutdown(code: number): Promise<void> {
    if (this.phase === "stopping") return;
    this.phase = "stopping";
    say("stopping the nodes");
    await Promise.allSettled(this.nodes.map(stopNode));
    say("stopping NATS and PostgreSQL");
    await this.nats?.stop().catch((error) => fail(`nats-server: ${error}`));
    await this.postgres?.stop().catch((error) => fail(`PostgreSQL: ${error}`));
    rmSync(this.root, { recursive: true, force: true });
    say(`stopped; removed ${this.root}`);
    this.finish(code);
  }
}

async function main(): Promise<number> {
  const missing = missingBinaries();
  if (missing) {
    fail(missing);
    return 1;
  }
  let ports: number[];
  try {
    ports = clusterPorts(process.env.CLUSTER_PORTS);
  } catch (error) {
    fail((error as Error).message);
    return 2;
  }
  const cluster = new LocalCluster(ports);
  await cluster.start();
  return cluster.finished;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    fail(`failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
