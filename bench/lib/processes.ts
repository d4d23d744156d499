// Child processes of a benchmark run: load generators (forked with IPC), the ceiling server,
// autocannon, and readings of a process's CPU time and resident memory from /proc.
import { type ChildProcess, execFile, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Job, JobResult } from "../load/wsLoad.js";

const here = import.meta.dirname;

export interface LoadProcess {
  ready: Promise<void>;
  /** Starts the measured phase; resolves with the generator's result. */
  go(): Promise<JobResult>;
  /** Lets a generator that keeps its sockets open (waiting, fanout) close them and exit. */
  release(): void;
  child: ChildProcess;
}

/** `onSale` hears each payment a flash-sale generator made, as it happens. */
export function forkLoad(job: Job, onSale?: () => void): LoadProcess {
  const child = fork(join(here, "../load/wsLoad.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let onResult: (result: JobResult) => void = () => {};
  let onFail: (error: Error) => void = () => {};
  const result = new Promise<JobResult>((done, fail) => {
    onResult = done;
    onFail = fail;
  });
  const ready = new Promise<void>((done, fail) => {
    child.on("message", (message: { type: string; result?: JobResult; message?: string }) => {
      if (message.type === "ready") done();
      if (message.type === "sale") onSale?.();
      if (message.type === "result") onResult(message.result!);
      if (message.type === "error") {
        const error = new Error(`load generator failed: ${message.message}`);
        fail(error);
        onFail(error);
      }
    });
    child.once("exit", (code) => {
      const error = new Error(`load generator exited with ${code}`);
      fail(error);
      onFail(error);
    });
  });
  result.catch(() => {});
  child.send(job);
  return {
    ready,
    child,
    go() {
      child.send({ type: "go" });
      return result;
    },
    release() {
      if (child.connected) child.send({ type: "release" });
    },
  };
}

/** Refusals by error code across generators, as figures (`err.SEAT_UNAVAILABLE`, `err.RATE_LIMITED`, ...). */
export function errorFigures(results: JobResult[]): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const result of results) {
    for (const [code, n] of Object.entries(result.errors)) figures[`err.${code}`] = (figures[`err.${code}`] ?? 0) + n;
  }
  return figures;
}

/** Runs several generators as one: all connect, then all start together. */
export async function runLoads(jobs: Job[], beforeGo?: () => void | Promise<void>): Promise<JobResult[]> {
  const loads = jobs.map((job) => forkLoad(job));
  await Promise.all(loads.map((load) => load.ready));
  await beforeGo?.();
  return Promise.all(loads.map((load) => load.go()));
}

/** A message from a worker process: `{ type, ...fields }`. */
export type WorkerMessage = { type: string } & Record<string, unknown>;

/** A generator process spoken to in `{type}` messages, for steps that go back and forth. */
export interface Worker {
  child: ChildProcess;
  send(message: object): void;
  /** The next message of `type` (in arrival order); fails on an `error` message or an exit. */
  next(type: string): Promise<WorkerMessage>;
}

/** Forks `file` (a path under dist/bench/load) and sends it `job`. */
export function forkWorker(file: string, job: object): Worker {
  const child = fork(join(here, "../load", file), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const inbox: WorkerMessage[] = [];
  let failure: Error | undefined;
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const done of waiting.splice(0)) done();
  };
  child.on("message", (message: WorkerMessage) => {
    if (message.type === "error") failure = new Error(`${file} failed: ${String(message.message)}`);
    inbox.push(message);
    wake();
  });
  child.once("exit", (code) => {
    failure ??= new Error(`${file} exited with ${code}`);
    wake();
  });
  child.send(job);
  return {
    child,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    async next(type) {
      for (;;) {
        const at = inbox.findIndex((m) => m.type === type);
        if (at !== -1) return inbox.splice(at, 1)[0]!;
        if (failure) throw failure;
        await new Promise<void>((done) => waiting.push(done));
      }
    },
  };
}

export async function startCeilingServer(): Promise<{ port: number; stop(): void; pid: number }> {
  const child = fork(join(here, "../ceilings/uwsCeiling.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise<number>((done) => child.once("message", (m: { port: number }) => done(m.port)));
  return { port, pid: child.pid!, stop: () => child.kill("SIGKILL") };
}

export interface AutocannonResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Answers by HTTP status other than 2xx (`status.429`: refused by a rate limit). */
  statusFigures: Record<string, number>;
}

/** autocannon in its own process, JSON out. */
export function autocannon(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
) {
  const require = createRequire(import.meta.url);
  const bin = join(require.resolve("autocannon/package.json"), "../autocannon.js");
  const args = [bin, "-j", "-c", String(options.connections), "-d", String(options.seconds), "-p", "1"];
  for (const [key, value] of Object.entries(options.headers ?? {})) args.push("-H", `${key}=${value}`);
  args.push(url);
  return new Promise<AutocannonResult>((done, fail) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return fail(error);
      const out = JSON.parse(stdout);
      done({
        requestsPerSecond: out.requests.average,
        p50: out.latency.p50,
        p99: out.latency.p99,
        non2xx: out.non2xx,
        errors: out.errors,
        statusFigures: Object.fromEntries(
          Object.entries((out.statusCodeStats ?? {}) as Record<string, { count: number }>)
            .filter(([status]) => !status.startsWith("2"))
            .map(([status, stats]) => [`status.${status}`, stats.count]),
        ),
      });
    });
  });
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Microseconds so far in which some runnable task waited for a CPU (Linux PSI,
 * /proc/pressure/cpu); NaN where the kernel does not report it. Over a phase, the share of its
 * time says how busy the machine was with work other than the phase's own (other agents' too).
 */
export function cpuPressureMicros(): number {
  try {
    return Number(/^some .* total=(\d+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"))?.[1]);
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MB. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
