// A private, throw-away nats-server for tests, benchmarks and `npm run cluster`: a direct child of
// this process on a free loopback port, with its pid file and log in a temp dir; kill -9 it and
// restart it on the same port (clients reconnect to the same URL); stop removes it all.
// (tests/helpers/nats.ts re-exports it for the suites.)
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./freePort.js";

const TEMP_PREFIX = "ticketing-nats-";

/**
 * Debian's nats-server (/usr/sbin/nats-server), or the first on PATH. NATS_SERVER_BIN overrides
 * the search (and, pointed at a missing file, means "none").
 */
export function natsBinary(): string | undefined {
  if (process.env.NATS_SERVER_BIN)
    return existsSync(process.env.NATS_SERVER_BIN) ? process.env.NATS_SERVER_BIN : undefined;
  const path = (process.env.PATH ?? "").split(":").filter(Boolean);
  return ["/usr/sbin", ...path].map((dir) => join(dir, "nats-server")).find((file) => existsSync(file));
}

export interface NatsOptions {
  binary?: string;
  /** Extra command-line flags (for example `["--max_payload", "65536"]`). */
  flags?: string[];
  /** Run it in a process group of its own: a terminal's Ctrl-C does not reach it, the caller stops it. */
  detached?: boolean;
}

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The temp dir with its pid file and log. */
  dir: string;
  /** `nats-server: v2.9.10` */
  version: string;
  /** SIGTERM (a clean shutdown, SIGKILL after 10 s), then delete the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); the port stays reserved for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port (after kill()). */
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: any) {
    return error?.code === "EPERM";
  }
}

/** Servers left running by a run that was interrupted (a killed worker skips teardown): their owner is dead. */
function reapOrphans(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(TEMP_PREFIX))) {
    const dir = join(tmpdir(), name);
    try {
      if (statSync(join(dir, "owner.pid")).uid !== process.getuid?.()) continue;
      const owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
      if (!owner || alive(owner)) continue;
      const server = Number(readFileSync(join(dir, "nats.pid"), "utf8"));
      if (server && alive(server)) process.kill(server, "SIGKILL");
    } catch {
      // being created, not ours, or the server never wrote its pid
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Waits for the child's exit, holding the event loop open meanwhile. */
function exit(child: ChildProcess): Promise<void> {
  child.ref();
  return new Promise((done) => (exited(child) ? done() : child.once("exit", () => done())));
}

/**
 * Runs nats-server on `port` and resolves once its log (from `logFrom` on) says it is ready,
 * which it writes after its listener accepts connections; rejects with the log's tail when it
 * exits first (the port taken, a bad flag).
 */
async function launch(
  binary: string,
  dir: string,
  port: number,
  flags: string[],
  detached: boolean,
): Promise<ChildProcess> {
  const logFile = join(dir, "nats.log");
  const logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
  const args = ["-a", "127.0.0.1", "-p", String(port), "-P", join(dir, "nats.pid"), "-l", logFile, ...flags];
  const child = spawn(binary, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], detached });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  child.unref(); // a caller that never stops it does not hang; the next startNats reaps it
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(logFrom) : "");
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited(child)) {
      const tail = `${log()}${stderr}`.trim().split("\n").slice(-5).join("\n");
      throw new Error(`nats-server exited before accepting connections on port ${port}:\n${tail}`);
    }
    if (log().includes("Server is ready")) return child;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not get ready in 20 s (log: ${logFile})`);
    }
    await sleep(10);
  }
}

export async function startNats(options: NatsOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? natsBinary();
  if (!binary) throw new Error("no nats-server binary (apt-get install nats-server, or set NATS_SERVER_BIN)");
  reapOrphans();
  const dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  const flags = options.flags ?? [];
  const detached = options.detached ?? false;
  let child: ChildProcess | undefined;
  try {
    // The free port can be taken between the probe and the start: try another.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        child = await launch(binary, dir, port, flags, detached);
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    const version = await new Promise<string>((done) => {
      const probe = spawn(binary, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      probe.stdout.setEncoding("utf8").on("data", (text: string) => {
        out += text;
      });
      probe.on("close", () => done(out.trim()));
    });
    const running = () => child !== undefined && !exited(child);
    return {
      url: `nats://127.0.0.1:${port}`,
      port,
      dir,
      version,
      async stop() {
        if (running()) {
          const server = child!;
          server.kill("SIGTERM");
          const tooLong = setTimeout(() => server.kill("SIGKILL"), 10_000);
          await exit(server);
          clearTimeout(tooLong);
        }
        rmSync(dir, { recursive: true, force: true });
      },
      async kill() {
        if (!running()) return;
        child!.kill("SIGKILL");
        await exit(child!);
      },
      async restart() {
        if (running()) throw new Error("nats-server is still running: kill() it first");
        // The old listener is gone with the process; retry briefly in case the kernel lags.
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            child = await launch(binary, dir, port, flags, detached);
            return;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await sleep(50);
          }
        }
      },
    };
  } catch (error) {
    if (child && !exited(child)) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
