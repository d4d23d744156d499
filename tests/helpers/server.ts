// Starts the real server (dist/src/main.js, built by `npm test`'s pretest) as a child process on
// port 0 and gives tests its address, its secrets and helpers to mint user JWTs. Under
// TEST_STORE=postgres it also gives the server a database of its own on the run's cluster.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { createDatabase, databaseUrl, dropDatabase } from "./postgres.js";
import { postgresAdminUrl, testStore } from "./testStore.js";

export { testStore } from "./testStore.js";

/** The project root: the nearest folder above this file with a package.json (works from dist/ too). */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

export const MAIN = join(projectRoot(), "dist/src/main.js");

export interface ServerOptions {
  /** Extra environment (QUEUE_ACTIVE_MAX, HOLD_TTL_MS, ...). Strings only, as in a shell. */
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests). A fresh temp dir otherwise. */
  dataDir?: string;
  /** Extra arguments for node itself (e.g. --cpu-prof for benchmarks). */
  nodeArgs?: string[];
  /** Another build of the server to run (a benchmark's "before" build); MAIN otherwise. */
  main?: string;
}

export interface TestServer {
  port: number;
  url: string; // http://127.0.0.1:PORT
  wsUrl: string; // ws://127.0.0.1:PORT/v1/ws
  dataDir: string;
  /** The server's DATABASE_URL (TEST_STORE=postgres): audit or tamper with its tables. Undefined on SQLite. */
  databaseUrl: string | undefined;
  authSecret: string;
  adminToken: string;
  child: ChildProcess;
  /** Every stdout/stderr line the server printed so far (pino JSON lines). */
  logs: string[];
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>;
  /**
   * Remove the data directory and drop its database, if any (call after stop/kill when done).
   * The drop finishes in the background unless awaited; the postgres project's worker setup
   * waits for every drop before a file ends.
   */
  cleanup(): Promise<void>;
}

/** startServer's failure when the process exits before it listens: its exit code and all it printed. */
export class ServerExitedError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`server exited with ${exitCode} before listening:\n${output}`);
  }
}

export const TEST_AUTH_SECRET = "test-secret-0123456789abcdef0123456789abcdef";
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** The database of a data dir: the same dir (a restart) gets the same database. */
export function databaseNameFor(dataDir: string): string {
  return `t_${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16)}`;
}

// Drops still running, by database: a data dir started again right after its cleanup must not
// have its new database dropped under it.
const pendingDrops = new Map<string, Promise<void>>();

/** Waits for every database drop that cleanup() started. */
export async function settleDatabaseDrops(): Promise<void> {
  await Promise.all(pendingDrops.values());
}

/** Creates the data dir's database on the run's cluster unless it exists (a restart keeps its data); resolves its name. */
export async function testDatabase(dataDir: string): Promise<string> {
  const name = databaseNameFor(dataDir);
  await pendingDrops.get(name);
  await createDatabase(postgresAdminUrl(), name);
  return name;
}

/** Drops a database of testDatabase() on the run's cluster (once, however often it is asked); errors are ignored. */
export function dropTestDatabase(name: string): Promise<void> {
  let drop = pendingDrops.get(name);
  if (!drop) {
    drop = dropDatabase(postgresAdminUrl(), name)
      .catch(() => {}) // a test that dropped it itself, or a cluster already gone
      .finally(() => pendingDrops.delete(name));
    pendingDrops.set(name, drop);
  }
  return drop;
}

/** The environment a test server starts with on `dataDir`: a free loopback port, the test secrets, no demo. */
export function testServerEnv(dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEED_DEMO: "0",
    AUTH_SECRET: TEST_AUTH_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: "info",
  };
}

/** A server process that printed its "listening" line. */
export interface LaunchedServer {
  child: ChildProcess;
  /** The port from the "listening" line. */
  port: number;
  /** Every stdout/stderr line it printed so far (the array passed in, if any). */
  logs: string[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves with the exit code once its output has ended too (every line is in `logs`). */
  closed: Promise<number | null>;
}

/**
 * Runs a server (`main`, MAIN by default) with exactly `env` and resolves once it logs
 * "listening"; rejects with ServerExitedError when it exits first, and kills it after 15 s
 * without that line. Lines go to `logs` (pass an array to keep one log across restarts).
 */
export async function launchServer(
  env: Record<string, string>,
  options: Pick<ServerOptions, "nodeArgs" | "main"> & { logs?: string[] } = {},
): Promise<LaunchedServer> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main ?? MAIN], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = options.logs ?? [];
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  // "close" comes after the output pipes have ended, so an early exit reports every line it printed.
  const closed = new Promise<number | null>((done) => child.once("close", (code) => done(code)));
  createInterface({ input: child.stderr! }).on("line", (line) => logs.push(line));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => {
      // Never leave a server behind that nobody will stop.
      child.kill("SIGKILL");
      fail(new Error(`server did not listen in 15s:\n${logs.join("\n")}`));
    }, 15_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      logs.push(line);
      if (!line.includes('"listening"')) return;
      clearTimeout(timer);
      done(JSON.parse(line).port as number);
    });
    closed.then((code) => {
      clearTimeout(timer);
      fail(new ServerExitedError(code, logs.join("\n")));
    });
  });
  return { child, port, logs, exited, closed };
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  // The vitest project "cluster" runs the contract suites against a gateway node of a cluster.
  if (process.env.TEST_CLUSTER === "1" && options.main === undefined) {
    const { startClusterServer } = await import("./cluster.js");
    return startClusterServer(options);
  }
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "ticketing-test-"));
  const database = testStore() === "postgres" ? await testDatabase(dataDir) : undefined;
  const env: Record<string, string> = {
    ...testServerEnv(dataDir),
    ...(database ? { DATABASE_URL: databaseUrl(postgresAdminUrl(), database) } : {}),
    ...options.env,
  };
  const { child, port, logs, exited } = await launchServer(env, options);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    authSecret: env.AUTH_SECRET!,
    adminToken: env.ADMIN_TOKEN!,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      return database ? dropTestDatabase(database) : Promise.resolve();
    },
  };
}

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString("base64url");
}

/** Signs an HS256 JWT by hand, so tests can also forge bad ones (wrong key, alg, claims). */
export function signJwt(
  claims: Record<string, unknown>,
  secret: string = TEST_AUTH_SECRET,
  header: Record<string, unknown> = { alg: "HS256", typ: "JWT" },
): string {
  const head = base64url(JSON.stringify(header));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

/** A valid user JWT for `sub`, expiring in an hour unless told otherwise. */
export function userJwt(sub: string, ttlSeconds = 3600, secret: string = TEST_AUTH_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub, iat: now, exp: now + ttlSeconds }, secret);
}
