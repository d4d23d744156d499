// Open-loop HTTP generator over raw sockets, run as its own process (bench/scenarios/flood.ts).
// Requests leave on a fixed schedule whatever the answers do, pipelined on keep-alive
// connections, and each answer's latency counts from its intended start (no coordinated
// omission). `user`: a real user's GET /v1/balance with a valid JWT. `flood`: the same request
// with bad tokens, from one client address (the X-Forwarded-For a proxy in front would add).
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { signJwt } from "../../tests/helpers/server.js";
import { createHistogram, encodeHistogram, type Histogram, recordMs } from "../lib/histogram.js";

export interface OpenLoopJob {
  kind: "user" | "flood";
  port: number;
  /** Requests per second, spread evenly over the connections. */
  rate: number;
  connections: number;
  forwardedFor: string;
  /** user: the valid JWT it sends. */
  jwt?: string;
  /** flood: another mix of kinds than FLOOD_PATTERN (to find which kind costs what). */
  pattern?: string[];
}

/**
 * The flood, per 50 requests: 35 HS256 tokens signed with another key (each costs an HMAC when
 * verified), 12 garbage (not a JWT, bad base64 or JSON, alg none, no or another scheme), 2 of
 * 60 KB (under uWS's 64 KB header limit: they reach the server's 8 KiB check) and 1 of 120 KB
 * (over it: uWS resets the connection before any JavaScript runs, so each goes on a new one).
 */
const FLOOD_PATTERN = [
  ...Array<string>(35).fill("forged"),
  ...Array<string>(12).fill("garbage"),
  "60KB",
  "60KB",
  "120KB",
];

const send = (message: object) => process.send?.(message);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function request(authorization: string | undefined, forwardedFor: string): Buffer {
  const auth = authorization === undefined ? "" : `Authorization: ${authorization}\r\n`;
  return Buffer.from(
    `GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}X-Forwarded-For: ${forwardedFor}\r\n\r\n`,
    "latin1",
  );
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Pre-built requests of each kind, cycled through. */
function floodRequests(forwardedFor: string): Record<string, Buffer[]> {
  const now = Math.floor(Date.now() / 1000);
  const wrongKey = randomBytes(32).toString("hex");
  const forged = Array.from({ length: 1000 }, (_, i) =>
    request(`Bearer ${signJwt({ sub: `victim-${i}`, iat: now, exp: now + 3600 }, wrongKey)}`, forwardedFor),
  );
  const garbage = [
    ...Array.from(
      { length: 40 },
      () => `Bearer ${randomBytes(16 + Math.floor(Math.random() * 150)).toString("base64url")}`,
    ),
    ...Array.from(
      { length: 20 },
      () => `Bearer ${randomBytes(12).toString("base64url")}.${randomBytes(40).toString("base64url")}.x`,
    ),
    ...Array.from({ length: 20 }, () => `Bearer ${b64({ alg: "none" })}.${b64({ sub: "admin", exp: now + 3600 })}.`),
    ...Array.from({ length: 10 }, () => `Basic ${randomBytes(24).toString("base64")}`),
    undefined,
  ].map((authorization) => request(authorization, forwardedFor));
  const big = (bytes: number) =>
    Array.from({ length: 4 }, () =>
      request(
        `Bearer ${b64({ alg: "HS256" })}.${randomBytes((bytes * 3) / 4).toString("base64url")}.sig`,
        forwardedFor,
      ),
    );
  return { forged, garbage, "60KB": big(60_000), "120KB": big(120_000) };
}

interface Tally {
  histogram: Histogram;
  /** Answers by "<kind> <status>", and "<kind> reset" / "<kind> unanswered". */
  statuses: Record<string, number>;
  issued: number;
}

const count = (tally: Tally, what: string) => {
  tally.statuses[what] = (tally.statuses[what] ?? 0) + 1;
};

/**
 * One keep-alive connection with requests pipelined on it; answers come back in order. Only the
 * status line and Content-Length are read, so the generator spends little per answer.
 */
class Pipeline {
  private socket!: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { kind: string; intended: number }[] = [];
  private head = 0;
  private queued: Buffer[] = [];
  private closing = false;

  constructor(
    private readonly port: number,
    private readonly tally: () => Tally,
  ) {}

  open(): Promise<void> {
    return new Promise((done, fail) => {
      const socket = connect(this.port, "127.0.0.1", () => done());
      this.socket = socket;
      socket.setNoDelay(true);
      socket.on("error", fail);
      socket.on("data", (chunk: Buffer) => {
        if (socket === this.socket) this.read(chunk);
      });
      socket.once("close", () => {
        if (socket === this.socket) this.closed();
      });
    });
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }

  get outstanding(): number {
    return this.pending.length - this.head;
  }

  enqueue(bytes: Buffer, kind: string, intended: number): void {
    this.pending.push({ kind, intended });
    this.queued.push(bytes);
  }

  /** Writes what this tick queued in one syscall. */
  flush(): void {
    if (this.queued.length === 0) return;
    this.socket.write(this.queued.length === 1 ? this.queued[0]! : Buffer.concat(this.queued));
    this.queued = [];
  }

  /** Requests never answered count as such; the connection is reopened for the next phase. */
  async drop(): Promise<void> {
    for (let i = this.head; i < this.pending.length; i++) count(this.tally(), `${this.pending[i]!.kind} unanswered`);
    this.pending = [];
    this.head = 0;
    this.buffer = Buffer.alloc(0);
    const old = this.socket;
    await this.open();
    old.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      const header = this.buffer.toString("latin1", 0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      this.buffer = this.buffer.subarray(end + 4 + length);
      const sent = this.pending[this.head++];
      if (!sent) continue;
      const tally = this.tally();
      recordMs(tally.histogram, performance.now() - sent.intended);
      count(tally, `${sent.kind} ${header.slice(9, 12)}`);
      if (this.head > 1024) {
        this.pending = this.pending.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** The server closed the connection: what was in flight on it is lost; later requests go on a new one. */
  private closed(): void {
    for (let i = this.head; i < this.pending.length; i++) count(this.tally(), `${this.pending[i]!.kind} reset`);
    this.pending = [];
    this.head = 0;
    this.buffer = Buffer.alloc(0);
    if (!this.closing) void this.open().catch(() => {});
  }
}

/** A request on a connection of its own (120 KB headers): uWS resets it, or it answers. */
function oneShot(port: number, bytes: Buffer, tally: Tally, intended: number): void {
  const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
  socket.setTimeout(5000, () => socket.destroy());
  let answered = false;
  socket.once("data", (chunk: Buffer) => {
    answered = true;
    recordMs(tally.histogram, performance.now() - intended);
    count(tally, `120KB ${chunk.toString("latin1", 9, 12)}`);
    socket.destroy();
  });
  socket.on("error", () => {});
  socket.once("close", () => {
    if (!answered) count(tally, "120KB reset");
  });
}

async function main(job: OpenLoopJob): Promise<void> {
  let tally: Tally = { histogram: createHistogram(), statuses: {}, issued: 0 };
  const pipelines = Array.from({ length: job.connections }, () => new Pipeline(job.port, () => tally));
  await Promise.all(pipelines.map((p) => p.open()));
  const kinds: Record<string, Buffer[]> =
    job.kind === "user" ? { user: [request(`Bearer ${job.jwt}`, job.forwardedFor)] } : floodRequests(job.forwardedFor);
  const pattern = job.kind === "user" ? ["user"] : (job.pattern ?? FLOOD_PATTERN);
  send({ type: "ready" });

  for (;;) {
    const message = await new Promise<{ type: string; durationMs?: number }>((done) => process.once("message", done));
    if (message.type !== "go") break;
    tally = { histogram: createHistogram(), statuses: {}, issued: 0 };
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const cpuAtStart = process.cpuUsage();
    const interval = 1000 / job.rate;
    const started = performance.now();
    const deadline = started + message.durationMs!;
    let intended = started;
    let n = 0;
    while (intended < deadline) {
      const now = performance.now();
      for (; intended <= now && intended < deadline; intended += interval, n++) {
        const kind = pattern[n % pattern.length]!;
        const pool = kinds[kind]!;
        const bytes = pool[Math.floor(n / pattern.length) % pool.length]!;
        tally.issued++;
        if (kind === "120KB") oneShot(job.port, bytes, tally, intended);
        else pipelines[n % pipelines.length]!.enqueue(bytes, kind, intended);
      }
      for (const pipeline of pipelines) pipeline.flush();
      await sleep(1);
    }
    // Answers still due get two seconds; after that they count as unanswered.
    const waitUntil = performance.now() + 2000;
    while (pipelines.some((p) => p.outstanding > 0) && performance.now() < waitUntil) await sleep(5);
    await Promise.all(pipelines.filter((p) => p.outstanding > 0).map((p) => p.drop()));
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    lag.disable();
    send({
      type: "result",
      issued: tally.issued,
      statuses: tally.statuses,
      histogram: encodeHistogram(tally.histogram),
      elapsedMs: elapsed,
      generatorCpuCores: Number(((cpu.user + cpu.system) / 1000 / elapsed).toFixed(2)),
      generatorLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)),
    });
  }
  for (const pipeline of pipelines) pipeline.close();
  setTimeout(() => process.exit(0), 100);
}

process.once("message", (job: OpenLoopJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
