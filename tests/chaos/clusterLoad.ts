// The booking mix of the cluster chaos tests (cluster.test.ts): virtual users in the test process,
// each sending one request at a time, every one through a node picked at random among those
// running now (so a node being killed gets requests too). They hold seats of the schedules they
// are given (on-sale rooms and the site room), charge, pay, release and replay, with an
// Idempotency-Key on every charge and payment; a 503 is retried, a keyed request also after a
// connection the kill cut, always with the same key. Every acknowledged (2xx) change and every
// charge sent goes to `entries` in the crash-loop log's format (audit.ts audits them); every answer
// outside the contract of an op goes to `findings`.
import type { ClusterNode } from "../helpers/cluster.js";
import { CONTRACT_ERRORS } from "../helpers/contract.js";
import { userJwt } from "../helpers/server.js";
import type { LogEntry } from "./audit.js";

/** A schedule the users book, and the room (0: the site room; else its on-sale concert) that gates it. */
export interface Target {
  scheduleId: number;
  /** The concert id of an on-sale concert (its own room), or 0 for the site room. */
  room: number;
  seats: number;
}

/**
 * The error codes a correct cluster may answer to each op of the mix, and why:
 * - UNAVAILABLE (503, with Retry-After): the room is moving (its owner was killed) or NATS is down;
 *   retried with the same key;
 * - SEAT_UNAVAILABLE: another user holds or bought the seat (users contend for a few hot seats);
 * - HOLD_LIMIT: the user's holds include ones it never heard about (a 503 after the owner had
 *   committed the hold, a connection cut by a kill);
 * - HOLD_EXPIRED: a hold ended (HOLD_TTL_MS is short, and outages make users late) before it was
 *   paid or released, or a retried release whose first attempt went through;
 * - INSUFFICIENT_BALANCE: users pay without looking at their balance.
 * Never expected: TOKEN_INVALID (users take a new token only after their own payment ended the
 * old one: a token acknowledged active and never used to pay stays valid across moves),
 * ALREADY_PAID (a payment is only ever retried with its own key), IDEMPOTENCY_MISMATCH (a key is
 * only ever sent with one body), RATE_LIMITED (the limits are off), INTERNAL, anything else.
 */
const ACCEPTED: Record<string, ReadonlySet<string>> = {
  check: new Set(["UNAVAILABLE"]),
  hold: new Set(["UNAVAILABLE", "SEAT_UNAVAILABLE", "HOLD_LIMIT"]),
  release: new Set(["UNAVAILABLE", "HOLD_EXPIRED"]),
  charge: new Set(["UNAVAILABLE"]),
  pay: new Set(["UNAVAILABLE", "HOLD_EXPIRED", "INSUFFICIENT_BALANCE"]),
};

/** How long an op is retried (503s, cut connections) before that is a finding: a payment lock orphaned by a killed coordinator lapses after 10 s (src/cluster/payments.ts). */
const RETRY_BUDGET_MS = 25_000;
const RETRY_PAUSE_MS = 150;
/** A request nobody answers in this time is a finding, not a retry. */
const REQUEST_TIMEOUT_MS = 20_000;
/** A share of holds go to the first seats of a schedule, so users race for the same seats. */
const HOT_SEATS = 8;

export interface Finding {
  at: number;
  user: string;
  op: string;
  what: string;
  trace?: string[];
}

interface Hold {
  reservationId: number;
  room: number;
  price: number;
  expiresAt: number;
}

interface User {
  id: string;
  /** Queue token per room, acknowledged active. */
  tokens: Map<number, string>;
  holds: Hold[];
  acked: LogEntry[];
  /** The user's last requests and answers, for a finding's report. */
  trace: string[];
}

type Answer = { status: number; body: any; code?: string | undefined; node: string };

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

export class ClusterLoad {
  readonly entries: LogEntry[] = [];
  readonly findings: Finding[] = [];
  /** Answers by op and status (or "cut" for a connection a kill cut). */
  readonly counts: Record<string, number> = {};
  private running = false;
  private phase = "";
  private loops: Promise<void>[] = [];
  private keys = 0;
  private readonly users: User[];

  constructor(
    private readonly options: {
      nodes: () => readonly ClusterNode[];
      targets: readonly Target[];
      users: readonly string[];
    },
  ) {
    this.users = options.users.map((id) => ({ id, tokens: new Map(), holds: [], acked: [], trace: [] }));
  }

  /** Starts every user; what they are told is logged under `phase`. */
  start(phase: string): void {
    this.phase = phase;
    this.running = true;
    this.loops = this.users.map((user) => this.drive(user));
  }

  /** Stops the users after the op each has in flight (retries included) and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  acknowledged(op?: string): LogEntry[] {
    return this.entries.filter((e) => e.t === "ack" && (op === undefined || e.op === op));
  }

  private async drive(user: User): Promise<void> {
    while (this.running) {
      try {
        const r = Math.random();
        if (r < 0.12) await this.charge(user);
        else if (r < 0.55) await this.hold(user);
        else if (r < 0.65) await this.release(user);
        else if (r < 0.9) await this.pay(user);
        else await this.replay(user);
      } catch (error) {
        this.find(user, "crash", String((error as Error)?.stack ?? error));
      }
    }
  }

  private find(user: User, op: string, what: string): void {
    if (this.findings.length < 100)
      this.findings.push({ at: Date.now(), user: user.id, op, what, trace: [...user.trace] });
  }

  private traceOf(user: User, line: string): void {
    user.trace.push(`${Date.now()} ${line}`);
    if (user.trace.length > 40) user.trace.shift();
  }

  /** Logs a change the test made itself, for the audit. */
  record(entry: Pick<LogEntry, "t"> & Partial<LogEntry>): void {
    this.entries.push({ ...entry, cycle: 0, at: Date.now(), phase: this.phase });
  }

  /**
   * Sends one request through a random running node until it gets an answer that is not 503.
   * `keyed`: the request may be sent again after a cut connection (an idempotency key, or an op
   * that is safe to repeat); otherwise a cut connection is an unknown outcome (undefined).
   */
  private async call(
    user: User,
    op: string,
    method: string,
    path: string,
    options: { body?: unknown; queueToken?: string | undefined; key?: string; keyed?: boolean } = {},
  ): Promise<Answer | undefined> {
    const headers: Record<string, string> = { authorization: `Bearer ${userJwt(user.id)}` };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.queueToken !== undefined) headers["queue-token"] = options.queueToken;
    if (options.key !== undefined) headers["idempotency-key"] = options.key;
    const keyed = options.keyed ?? options.key !== undefined;
    const giveUpAt = Date.now() + RETRY_BUDGET_MS;
    for (;;) {
      const live = this.options.nodes().filter((node) => node.running());
      const node = live.length > 0 ? pick(live) : undefined;
      let answer: Answer | undefined;
      if (node !== undefined) {
        try {
          const response = await fetch(node.url + path, {
            method,
            headers,
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const text = await response.text();
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {}
          answer = { status: response.status, body, code: body?.error?.code, node: node.id };
          this.traceOf(
            user,
            `${method} ${path} ${JSON.stringify(options.body ?? "")} ${options.queueToken ?? ""} via ${node.id}: ${response.status} ${text.slice(0, 160)}`,
          );
          this.count(op, String(response.status));
          if (response.status === 503 && response.headers.get("retry-after") === null) {
            this.find(user, op, `503 without Retry-After from ${node.id}: ${text.slice(0, 200)}`);
          }
        } catch (error) {
          if ((error as Error).name === "TimeoutError") {
            this.find(user, op, `no answer from ${node.id} in ${REQUEST_TIMEOUT_MS} ms to ${method} ${path}`);
            return undefined;
          }
          this.count(op, "cut");
          this.traceOf(
            user,
            `${method} ${path} ${JSON.stringify(options.body ?? "")} via ${node.id}: cut (${(error as Error).message})`,
          );
          if (!keyed) return undefined;
        }
      }
      if (answer !== undefined && answer.status !== 503) {
        this.judge(user, op, answer);
        return answer;
      }
      if (Date.now() > giveUpAt) {
        this.find(user, op, `still no answer but 503 or cut connections after ${RETRY_BUDGET_MS} ms: ${path}`);
        return undefined;
      }
      await sleep(RETRY_PAUSE_MS);
    }
  }

  private count(op: string, what: string): void {
    const name = `${op} ${what}`;
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  /** A non-2xx answer must be a contract error this op may meet (ACCEPTED), with its status. */
  private judge(user: User, op: string, answer: Answer): void {
    if (answer.status < 300) return;
    const { code, status } = answer;
    const known =
      code !== undefined && CONTRACT_ERRORS[code] === status && typeof answer.body?.error?.message === "string";
    if (!known || !ACCEPTED[op]!.has(code)) {
      this.find(user, op, `${status} ${JSON.stringify(answer.body).slice(0, 300)} from ${answer.node}`);
    }
  }

  private async token(user: User, room: number): Promise<string | undefined> {
    const known = user.tokens.get(room);
    if (known !== undefined) return known;
    const reply = await this.call(user, "check", "POST", "/v1/queue/check", {
      body: room === 0 ? {} : { concertId: room },
      keyed: true, // one live token per user and room: asking again answers the same
    });
    if (reply?.status !== 200) return undefined;
    if (reply.body.status !== "active") {
      this.find(user, "check", `not admitted at once: ${JSON.stringify(reply.body)}`);
      return undefined;
    }
    user.tokens.set(room, reply.body.token);
    return reply.body.token;
  }

  private async charge(user: User): Promise<void> {
    const amount = 1000 + Math.floor(Math.random() * 4000);
    const key = `${user.id}:k${++this.keys}`;
    this.record({ t: "sent", op: "charge", user: user.id, key, amount });
    const reply = await this.call(user, "charge", "POST", "/v1/balance/charge", { body: { amount }, key });
    if (reply?.status !== 200) return;
    const entry = {
      t: "ack",
      op: "charge",
      user: user.id,
      key,
      req: { amount },
      status: 200,
      reply: reply.body,
    } as const;
    this.record(entry);
    user.acked.push(entry as LogEntry);
  }

  private async hold(user: User): Promise<void> {
    const target = pick(this.options.targets);
    const token = await this.token(user, target.room);
    if (token === undefined) return;
    const seatNo =
      Math.random() < 0.3 ? 1 + Math.floor(Math.random() * HOT_SEATS) : 1 + Math.floor(Math.random() * target.seats);
    const reply = await this.call(user, "hold", "POST", "/v1/reservations", {
      body: { scheduleId: target.scheduleId, seatNo },
      queueToken: token,
    });
    if (reply?.code === "TOKEN_INVALID") user.tokens.delete(target.room);
    if (reply?.status !== 201) return;
    this.record({ t: "ack", op: "hold", user: user.id, reply: reply.body });
    const { reservationId, price, expiresAt } = reply.body;
    user.holds.push({ reservationId, room: target.room, price, expiresAt: Date.parse(expiresAt) });
  }

  private async release(user: User): Promise<void> {
    if (user.holds.length === 0) return this.hold(user);
    const [target] = user.holds.splice(Math.floor(Math.random() * user.holds.length), 1);
    const reply = await this.call(user, "release", "DELETE", `/v1/reservations/${target!.reservationId}`);
    if (reply?.status === 200) this.record({ t: "ack", op: "release", user: user.id, reply: reply.body });
  }

  private async pay(user: User): Promise<void> {
    const payable = user.holds.filter((hold) => hold.expiresAt > Date.now() + 300);
    if (payable.length === 0) return this.hold(user);
    const chosen = payable.slice(0, 1 + Math.floor(Math.random() * 2));
    const ids = chosen.map((hold) => hold.reservationId);
    const key = `${user.id}:k${++this.keys}`;
    const req = { reservationIds: ids };
    this.record({ t: "sent", op: "pay", user: user.id, key, req });
    const reply = await this.call(user, "pay", "POST", "/v1/payments", { body: req, key });
    if (reply === undefined) return; // a finding already: the key was never answered
    if (reply.status === 201) {
      const entry = { t: "ack", op: "pay", user: user.id, key, req, status: 201, reply: reply.body } as const;
      this.record({ ...entry, prices: chosen.map((hold) => hold.price) });
      user.acked.push(entry as LogEntry);
      // The payment ended the user's token of each room its seats belong to.
      for (const hold of chosen) user.tokens.delete(hold.room);
    }
    if (reply.status === 201 || reply.code === "HOLD_EXPIRED") {
      user.holds = user.holds.filter((hold) => !ids.includes(hold.reservationId));
    }
    if (reply.code === "INSUFFICIENT_BALANCE") await this.charge(user);
  }

  /** An acknowledged charge or payment sent again with its key, through any node: the first answer comes back. */
  private async replay(user: User): Promise<void> {
    if (user.acked.length === 0) return this.charge(user);
    const original = pick(user.acked);
    const path = original.op === "charge" ? "/v1/balance/charge" : "/v1/payments";
    const reply = await this.call(user, original.op!, "POST", path, { body: original.req, key: original.key! });
    if (reply === undefined) return;
    this.count("replay", String(reply.status));
    if (reply.status !== original.status || JSON.stringify(reply.body) !== JSON.stringify(original.reply)) {
      this.find(
        user,
        "replay",
        `${original.key}: ${reply.status} ${JSON.stringify(reply.body)}, first ${JSON.stringify(original.reply)}`,
      );
    }
  }
}
