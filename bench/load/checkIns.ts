// New fans at the door, run as its own process: POST /v1/queue/check over raw keep-alive
// sockets, every request a NEW user with a fresh JWT. The JWTs (and whole requests) are signed
// before "ready", so signing does not load the generator while it measures. Closed loop: each
// connection keeps `depth` requests in flight; a phase ends after `durationMs` or `count`
// answers, whichever comes first. Depth 1 (no pipelining) is what the scenarios use: with two
// or more POSTs pipelined on a connection the server answered none of them (see BENCHMARKS.md).
import { createHmac } from "node:crypto";
import { connect, type Socket } from "node:net";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createHistogram, encodeHistogram, type Histogram, recordMs } from "../lib/histogram.js";

export interface CheckInJob {
  port: number;
  secret: string;
  /** Subjects are `<userPrefix><n>`: one per request, never repeated. */
  userPrefix: string;
  /** How many requests (users) to sign in advance: the most one generator can send. */
  pool: number;
  /** The on-sale to check in to; the site room without one. */
  concertId?: number;
  connections: number;
  /** Requests in flight per connection. */
  depth: number;
}

/** `go`: send until `durationMs` passed or `count` requests were answered. */
export interface CheckInPhase {
  type: "go";
  durationMs?: number;
  count?: number;
}

export interface CheckInResult {
  type: "result";
  sent: number;
  answered: number;
  statuses: Record<string, number>;
  histogram: string;
  elapsedMs: number;
  generatorCpuCores: number;
  generatorLagP99Ms: number;
  /** The pool ran out before the phase's end. */
  exhausted: boolean;
}

const send = (message: object) => process.send?.(message);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs `pool` HS256 JWTs (the header encoded once) and builds each request around one. */
function requests(job: CheckInJob): Buffer[] {
  const head = b64({ alg: "HS256", typ: "JWT" });
  const now = Math.floor(Date.now() / 1000);
  const body = job.concertId === undefined ? "{}" : JSON.stringify({ concertId: job.concertId });
  const out: Buffer[] = new Array(job.pool);
  for (let i = 0; i < job.pool; i++) {
    const claims = `${head}.${b64({ sub: `${job.userPrefix}${i}`, iat: now, exp: now + 3 * 3600 })}`;
    const jwt = `${claims}.${createHmac("sha256", job.secret).update(claims).digest("base64url")}`;
    out[i] = Buffer.from(
      `POST /v1/queue/check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${jwt}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      "latin1",
    );
  }
  return out;
}

interface Tally {
  histogram: Histogram;
  statuses: Record<string, number>;
  answered: number;
}

/** One keep-alive connection; answers come back in order, only status and length are read. */
class Connection {
  private socket!: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly sentAt: number[] = [];
  private head = 0;
  onAnswer: () => void = () => {};

  constructor(
    private readonly port: number,
    private readonly tally: () => Tally,
  ) {}

  open(): Promise<void> {
    return new Promise((done, fail) => {
      this.socket = connect(this.port, "127.0.0.1", () => done());
      this.socket.setNoDelay(true);
      this.socket.on("error", fail);
      this.socket.on("data", (chunk: Buffer) => this.read(chunk));
    });
  }

  get outstanding(): number {
    return this.sentAt.length - this.head;
  }

  write(bytes: Buffer[]): void {
    const now = performance.now();
    for (let i = 0; i < bytes.length; i++) this.sentAt.push(now);
    this.socket.write(bytes.length === 1 ? bytes[0]! : Buffer.concat(bytes));
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n", at);
      if (end === -1) break;
      const header = this.buffer.toString("latin1", at, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) break;
      at = end + 4 + length;
      const tally = this.tally();
      recordMs(tally.histogram, performance.now() - this.sentAt[this.head++]!);
      const status = header.slice(9, 12);
      tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
      tally.answered++;
      this.onAnswer();
    }
    this.buffer = at === 0 ? this.buffer : this.buffer.subarray(at);
    if (this.head > 4096) {
      this.sentAt.splice(0, this.head);
      this.head = 0;
    }
  }
}

async function main(job: CheckInJob): Promise<void> {
  const pool = requests(job);
  let next = 0;
  let tally: Tally = { histogram: createHistogram(), statuses: {}, answered: 0 };
  const connections = Array.from({ length: job.connections }, () => new Connection(job.port, () => tally));
  await Promise.all(connections.map((c) => c.open()));
  send({ type: "ready", pool: pool.length });

  for (;;) {
    const phase = await new Promise<CheckInPhase | { type: "stop" }>((done) => process.once("message", done));
    if (phase.type !== "go") break;
    tally = { histogram: createHistogram(), statuses: {}, answered: 0 };
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    const deadline = started + (phase.durationMs ?? 600_000);
    const limit = Math.min(pool.length, next + (phase.count ?? pool.length));
    let sent = 0;
    let finished!: () => void;
    const over = new Promise<void>((done) => {
      finished = done;
    });
    const going = () => next < limit && performance.now() < deadline;
    const refill = (connection: Connection) => {
      const batch: Buffer[] = [];
      while (connection.outstanding + batch.length < job.depth && going()) batch.push(pool[next++]!);
      if (batch.length > 0) {
        sent += batch.length;
        connection.write(batch);
      }
      if (!going() && connections.every((c) => c.outstanding === 0)) finished();
    };
    for (const connection of connections) {
      connection.onAnswer = () => {
        if (connection.outstanding < job.depth / 2 || !going()) refill(connection);
      };
      refill(connection);
    }
    // A deadline with no answer arriving still ends the phase.
    const timer = setInterval(() => {
      if (!going() && connections.every((c) => c.outstanding === 0)) finished();
    }, 50);
    await over;
    clearInterval(timer);
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    lag.disable();
    const result: CheckInResult = {
      type: "result",
      sent,
      answered: tally.answered,
      statuses: tally.statuses,
      histogram: encodeHistogram(tally.histogram),
      elapsedMs: elapsed,
      generatorCpuCores: Number(((cpu.user + cpu.system) / 1000 / elapsed).toFixed(2)),
      generatorLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)),
      exhausted: next >= pool.length,
    };
    send(result);
  }
  for (const connection of connections) connection.close();
  setTimeout(() => process.exit(0), 100);
}

process.once("message", (job: CheckInJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
