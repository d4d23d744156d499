// A private, throw-away PostgreSQL cluster for tests, benchmarks and `npm run cluster`: initdb into a
// temp dir, start it on a free port, kill -9 and restart it, drop it; plus creating and dropping
// databases on it. (tests/helpers/postgres.ts re-exports it for the suites.)
import { execFile, spawn } from "node:child_process";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { freePort } from "./freePort.js";

const run = promisify(execFile);
const TEMP_PREFIX = "ticketing-pg-";

/**
 * The bin folder of the highest PostgreSQL under /usr/lib/postgresql with initdb and pg_ctl.
 * PG_BIN_DIR overrides the search (and, pointed at a folder without them, means "none").
 */
export function postgresBinDir(): string | undefined {
  const usable = (bin: string) => existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"));
  if (process.env.PG_BIN_DIR) return usable(process.env.PG_BIN_DIR) ? process.env.PG_BIN_DIR : undefined;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((version) => /^\d+(\.\d+)?$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, "bin"))
    .find(usable);
}

export interface PostgresOptions {
  /** fsync, full_page_writes and synchronous_commit as in production (benchmarks). Off by default: tests lose nothing. */
  durable?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  binDir?: string;
  /**
   * Run the postmaster in a process group of its own, so that a terminal's Ctrl-C does not reach
   * it and the caller stops it in its own order (npm run cluster: the nodes first). Off for tests:
   * there Ctrl-C stopping it at once is what is wanted.
   */
  detached?: boolean;
}

export interface PostgresCluster {
  /** Admin URL: postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  port: number;
  dataDir: string;
  binDir: string;
  /** `PostgreSQL 15.18`. */
  version: string;
  /** Fast shutdown (SIGINT, as pg_ctl stop -m fast), then delete the whole temp dir. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster (a crash); the data dir stays for restart(). */
  kill(): Promise<void>;
  /** Start again on the same data dir and port (after kill()); crash recovery runs first. */
  restart(): Promise<void>;
}

// initdb and the postmaster refuse to run as root; Debian's `postgres` user runs them then.
const asRoot = process.getuid?.() === 0;

async function runPg(binDir: string, tool: string, args: string[]): Promise<string> {
  const [file, argv] = asRoot
    ? ["runuser", ["-u", "postgres", "--", join(binDir, tool), ...args]]
    : [join(binDir, tool), args];
  try {
    const { stdout } = await run(file, argv, { encoding: "utf8" });
    return stdout;
  } catch (error: any) {
    throw new Error(`${tool} ${args.join(" ")} failed: ${error.stderr || error.stdout || error.message}`);
  }
}

async function postgresUserIds(): Promise<[number, number]> {
  const { stdout: uid } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return [Number(uid), Number(gid)];
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** Gone or a zombie nobody reaped yet (pg_ctl daemonizes the postmaster, so it is not our child). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error: any) {
    return error?.code !== "EPERM"; // EPERM: alive, another user's
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Clusters left running by a run that was interrupted (Ctrl-C skips teardown): their owner is dead. */
async function reapOrphans(binDir: string): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(TEMP_PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      // Only this user's runs: another user's owner may be alive where we cannot see it.
      if (statSync(join(dir, "owner.pid")).uid !== process.getuid?.()) continue;
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // being created, or not ours
    }
    if (!owner || !processGone(owner)) continue;
    if (postmasterPid(join(dir, "data")) !== undefined) {
      await runPg(binDir, "pg_ctl", ["stop", "-m", "immediate", "-D", join(dir, "data")]).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** postmaster.pid's lines: 1 the pid, 8 the status ("ready" once it accepts connections). */
function postmasterStatus(dataDir: string): { pid: number; ready: boolean } | undefined {
  try {
    const lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
    return { pid: Number(lines[0]), ready: lines[7]?.trim() === "ready" };
  } catch {
    return undefined;
  }
}

const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);

/**
 * Runs the postmaster as a child of this process (through runuser when root), not daemonized by
 * pg_ctl: a killed postmaster is then reaped at once, so a restart need not wait for a slow init
 * to reap the zombie whose pid the lock file still names; and Ctrl-C reaches it (a fast shutdown)
 * unless it runs `detached`.
 * Resolves once it accepts connections; rejects with its log when it exits first.
 */
async function launchPostmaster(binDir: string, dataDir: string, flags: string[], logFile: string, detached: boolean) {
  const log = openSync(logFile, "a");
  const postgresBin = join(binDir, "postgres");
  const spawnOptions = { stdio: ["ignore", log, log] as ["ignore", number, number], detached };
  const child = asRoot
    ? spawn("runuser", ["-u", "postgres", "--", postgresBin, "-D", dataDir, ...flags], spawnOptions)
    : spawn(postgresBin, ["-D", dataDir, ...flags], spawnOptions);
  closeSync(log);
  child.unref(); // a caller that never stops it does not hang; the next startPostgres reaps it
  // Awaiting the exit holds the event loop open again (kill, stop).
  const exited = () => {
    child.ref();
    return new Promise<void>((done) =>
      child.exitCode !== null || child.signalCode !== null ? done() : child.once("exit", () => done()),
    );
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n");
      throw new Error(`postgres exited before accepting connections:\n${tail}`);
    }
    // The lock file can still be the killed postmaster's: only our child's (or runuser's child's) counts.
    const status = postmasterStatus(dataDir);
    if (status?.ready && !processGone(status.pid)) {
      const ours = asRoot ? parentOf(status.pid) === child.pid : status.pid === child.pid;
      if (ours) return { pid: status.pid, exited };
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`postgres did not accept connections in 60 s (log: ${logFile})`);
    }
    await sleep(20);
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
  const binDir = options.binDir ?? postgresBinDir();
  if (!binDir) throw new Error("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)");
  await reapOrphans(binDir);
  const root = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
  writeFileSync(join(root, "owner.pid"), String(process.pid));
  if (asRoot) {
    const [uid, gid] = await postgresUserIds();
    chownSync(root, uid, gid);
  }
  const dataDir = join(root, "data");
  const logFile = join(root, "log");
  let postmaster: { pid: number; exited: () => Promise<void> } | undefined;
  try {
    const initdb = ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"];
    await runPg(binDir, "initdb", ["-D", dataDir, "-U", "postgres", ...initdb]);
    const version = (await runPg(binDir, "pg_ctl", ["--version"])).trim().replace(/^pg_ctl \((PostgreSQL)\)/, "$1");
    const settings: Record<string, string | number> = {
      listen_addresses: "127.0.0.1",
      max_connections: 200,
      ...(options.durable
        ? { fsync: "on", full_page_writes: "on", synchronous_commit: "on" }
        : { fsync: "off", full_page_writes: "off" }),
      ...options.settings,
    };
    const start = async (port: number) => {
      const flags = [
        "-p",
        String(port),
        "-k",
        root,
        ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
      ];
      postmaster = await launchPostmaster(binDir, dataDir, flags, logFile, options.detached ?? false);
    };
    // The free port can be taken between the probe and the start: try another.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start(port);
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    const running = () => postmaster !== undefined && !processGone(postmaster.pid);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      binDir,
      version,
      async stop() {
        if (running()) {
          // SIGINT is PostgreSQL's fast shutdown (pg_ctl stop -m fast): disconnect, checkpoint, exit.
          const { pid, exited } = postmaster!;
          process.kill(pid, "SIGINT");
          const tooLong = setTimeout(() => process.kill(pid, "SIGKILL"), 30_000);
          await exited();
          clearTimeout(tooLong);
        }
        rmSync(root, { recursive: true, force: true });
      },
      async kill() {
        if (!running()) return;
        process.kill(postmaster!.pid, "SIGKILL");
        await postmaster!.exited();
      },
      async restart() {
        // Backends of the killed postmaster leave when they notice; until then the shared memory
        // is still attached and the new postmaster refuses to start.
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            return await start(port);
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await sleep(50);
          }
        }
      },
    };
  } catch (error) {
    if (postmaster && !processGone(postmaster.pid)) process.kill(postmaster.pid, "SIGKILL");
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function admin(adminUrl: string) {
  return postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

/** Creates database `name`; resolves false when it already existed (so a restart keeps its data). */
export async function createDatabase(adminUrl: string, name: string): Promise<boolean> {
  if (!DATABASE_NAME.test(name)) throw new Error(`not a plain database name: ${name}`);
  const sql = admin(adminUrl);
  try {
    await sql`CREATE DATABASE ${sql(name)}`;
    return true;
  } catch (error: any) {
    if (error?.code === "42P04") return false; // duplicate_database
    throw error;
  } finally {
    await sql.end();
  }
}

/** Drops database `name` if it exists, disconnecting whoever is still in it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!DATABASE_NAME.test(name)) throw new Error(`not a plain database name: ${name}`);
  const sql = admin(adminUrl);
  try {
    await sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`;
  } finally {
    await sql.end();
  }
}

/** The admin URL with its database replaced by `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
