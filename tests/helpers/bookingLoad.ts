// A booking load for tests: users charging, holding, paying and releasing over HTTP at once, each
// acknowledged mutation recorded with the moment it was sent and the moment its reply arrived.
import { http } from "./client.js";
import type { TestServer } from "./server.js";

export interface Mutation {
  op: "charge" | "hold" | "pay" | "release";
  user: string;
  /** Charges and payments carry an Idempotency-Key: replaying it must return `reply` again. */
  key?: string;
  body?: unknown;
  sentAt: number;
  ackedAt: number;
  status: number;
  reply: any;
}

export interface BookingLoad {
  acked: Mutation[];
  /** Replies outside the mix's expected outcomes, each described; a correct server gives none. */
  unexpected: string[];
  /** When every reply (acknowledgement or refusal) arrived. */
  answeredAt: number[];
  /** Lets each user finish the request in flight, then resolves. */
  stop(): Promise<void>;
}

export interface LoadOptions {
  users: string[];
  scheduleId: number;
  seatCount: number;
  maxHoldsPerUser: number;
}

/** Codes a correct server may answer in this mix, by operation; anything else is a finding. */
const EXPECTED: Record<Mutation["op"], string[]> = {
  charge: [],
  hold: ["SEAT_UNAVAILABLE", "HOLD_LIMIT", "TOKEN_INVALID"],
  pay: ["INSUFFICIENT_BALANCE"],
  release: [],
};
const OK_STATUS: Record<Mutation["op"], number> = { charge: 200, hold: 201, pay: 201, release: 200 };

export function startBookingLoad(server: TestServer, options: LoadOptions): BookingLoad {
  const load: BookingLoad = { acked: [], unexpected: [], answeredAt: [], stop: async () => {} };
  let stopped = false;
  let keys = 0;

  async function mutate(
    op: Mutation["op"],
    user: string,
    method: string,
    path: string,
    extra: { body?: unknown; key?: string; queueToken?: string } = {},
  ): Promise<{ ok: boolean; code?: string; reply: any }> {
    const sentAt = Date.now();
    const reply = await http(server, method, path, {
      user,
      body: extra.body,
      idempotencyKey: extra.key,
      queueToken: extra.queueToken,
    });
    const ackedAt = Date.now();
    load.answeredAt.push(ackedAt);
    if (reply.status === OK_STATUS[op]) {
      load.acked.push({
        op,
        user,
        key: extra.key,
        body: extra.body,
        sentAt,
        ackedAt,
        status: reply.status,
        reply: reply.body,
      });
      return { ok: true, reply: reply.body };
    }
    const code = reply.body?.error?.code;
    if (!EXPECTED[op].includes(code))
      load.unexpected.push(`${op} by ${user}: ${reply.status} ${reply.text.slice(0, 200)}`);
    return { ok: false, code, reply: reply.body };
  }

  async function queueToken(user: string): Promise<string | undefined> {
    const reply = await http(server, "POST", "/v1/queue/check", { user });
    load.answeredAt.push(Date.now());
    if (reply.status === 200 && reply.body.status === "active") return reply.body.token;
    load.unexpected.push(`queue check by ${user}: ${reply.status} ${reply.text.slice(0, 200)}`);
    return undefined;
  }

  async function drive(user: string): Promise<void> {
    let token = await queueToken(user);
    let holds: number[] = [];
    const charge = () =>
      mutate("charge", user, "POST", "/v1/balance/charge", {
        body: { amount: 1000 + Math.floor(Math.random() * 4000) },
        key: `${user}:${++keys}`,
      });
    while (!stopped) {
      const r = Math.random();
      if (holds.length === 0 || (holds.length < options.maxHoldsPerUser && r < 0.4)) {
        const seatNo = 1 + Math.floor(Math.random() * options.seatCount);
        const body = { scheduleId: options.scheduleId, seatNo };
        const result = await mutate("hold", user, "POST", "/v1/reservations", { body, queueToken: token });
        if (result.ok) holds.push(result.reply.reservationId);
        else if (result.code === "TOKEN_INVALID") token = await queueToken(user);
      } else if (r < 0.65) {
        const body = { reservationIds: holds.slice(0, 1 + Math.floor(Math.random() * 2)) };
        const result = await mutate("pay", user, "POST", "/v1/payments", { body, key: `${user}:${++keys}` });
        if (result.ok) {
          holds = holds.filter((id) => !body.reservationIds.includes(id));
          token = await queueToken(user); // a payment ends the payer's queue token
        } else if (result.code === "INSUFFICIENT_BALANCE") await charge();
      } else if (r < 0.8) {
        const id = holds.shift()!;
        await mutate("release", user, "DELETE", `/v1/reservations/${id}`);
      } else await charge();
    }
  }

  const running = Promise.all(options.users.map((user) => drive(user)));
  load.stop = async () => {
    stopped = true;
    await running;
  };
  return load;
}
