// A private, throw-away PostgreSQL cluster for tests and benchmarks: initdb into a temp dir, start it
// on a free port, kill -9 and restart it, drop it; plus creating and dropping databases on it.
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";

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
}

export interface PostgresCluster {
  /** Admin URL: postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  port: number;
  dataDir: string;
  binDir: string;
  /** `PostgreSQL 15.18`. */
  version: string;
  /** pg_ctl stop -m fast, then delete the whole temp dir. */
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

/** A port free right now (bind 0, read it, close): the cluster takes it a moment later. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
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
  } catch {
    return true;
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
  const socketDir = root;
  try {
    await runPg(binDir, "initdb", [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
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
      const flags = [`-p ${port}`, `-k ${socketDir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)];
      await runPg(binDir, "pg_ctl", [
        "start",
        "-w",
        "-t",
        "60",
        "-D",
        dataDir,
        "-l",
        join(root, "log"),
        "-o",
        flags.join(" "),
      ]);
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
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      dataDir,
      binDir,
      version,
      async stop() {
        if (postmasterPid(dataDir) !== undefined) {
          await runPg(binDir, "pg_ctl", ["stop", "-m", "fast", "-w", "-D", dataDir]).catch(() => {});
        }
        rmSync(root, { recursive: true, force: true });
      },
      async kill() {
        const pid = postmasterPid(dataDir);
        if (pid === undefined || processGone(pid)) return;
        process.kill(pid, "SIGKILL");
        while (!processGone(pid)) await sleep(10);
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
            await sleep(100);
          }
        }
      },
    };
  } catch (error) {
    const pid = postmasterPid(dataDir);
    if (pid !== undefined && !processGone(pid)) process.kill(pid, "SIGKILL");
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
