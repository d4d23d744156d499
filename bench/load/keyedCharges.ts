// Idempotency-record generator, run as its own process (bench/scenarios/idempotency.ts). `fill`:
// one WebSocket per user sends charges with fresh Idempotency-Keys, a few in flight on each
// connection, up to each total the orchestrator names, and keeps a sample of first replies (their
// frame bytes). `replay`: sends the sampled requests again, with the same request ids, and checks
// that each answer is the same bytes as the first one.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { userJwt } from "../../tests/helpers/server.js";
import { createHistogram, encodeHistogram, recordMs } from "../lib/histogram.js";
import { connectMany, type LoadClient } from "./wsClient.js";

export interface KeyedChargesJob {
  mode: "fill" | "replay";
  url: string;
  secret: string;
  userPrefix: string;
  /** fill: users (one connection each) and keys each will store. */
  users: number;
  keysPerUser: number;
  /** Requests in flight per connection (pipelined). */
  inFlight: number;
  /** fill: keep every n-th first reply for the replay. */
  sampleEvery: number;
  /** replay: the requests to send again. */
  samples?: KeyedSample[];
}

/** One stored charge: who sent it, with which request id and key, and the reply frame (base64). */
export interface KeyedSample {
  user: number;
  id: number;
  key: string;
  frame: string;
}

/** The only body every keyed charge sends: the fingerprint stays the same, the balance does not. */
const CHARGE = { amount: 1 };

const send = (message: object) => process.send?.(message);
const nextMessage = () =>
  new Promise<{ type: string; upTo?: number; count?: number }>((done) => process.once("message", done));

function countError(errors: Record<string, number>, code: string): void {
  errors[code] = (errors[code] ?? 0) + 1;
}

async function fill(job: KeyedChargesJob, clients: LoadClient[]): Promise<void> {
  const histogram = createHistogram();
  const errors: Record<string, number> = {};
  const samples: KeyedSample[] = [];
  const perUser = new Int32Array(job.users);
  const nextId = new Int32Array(job.users).fill(1);
  let issued = 0;
  let acknowledged = 0;

  const lane = async (client: LoadClient, user: number, upTo: number) => {
    while (issued < upTo && perUser[user]! < job.keysPerUser) {
      const n = ++issued;
      perUser[user]!++;
      const id = nextId[user]!++;
      const key = randomUUID();
      const started = performance.now();
      const { reply, frame } = await client.requestWithId(id, "balance.charge", { ...CHARGE, idempotencyKey: key });
      recordMs(histogram, performance.now() - started);
      if (!reply.ok) {
        countError(errors, reply.error!.code);
        continue;
      }
      acknowledged++;
      if (n % job.sampleEvery === 0) samples.push({ user, id, key, frame: frame.toString("base64") });
    }
  };

  // Warm-up: charges without a key do the same work and store no record.
  let warmed = 0;
  const warm = async (client: LoadClient, user: number, count: number) => {
    while (warmed < count) {
      warmed++;
      const { reply } = await client.requestWithId(nextId[user]!++, "balance.charge", CHARGE);
      if (!reply.ok) countError(errors, reply.error!.code);
    }
  };

  send({ type: "ready" });
  for (;;) {
    const message = await nextMessage();
    if (message.type === "warm") {
      warmed = 0;
      await Promise.all(
        clients.flatMap((client, user) =>
          Array.from({ length: job.inFlight }, () => warm(client, user, message.count!)),
        ),
      );
      send({ type: "warmed", warmed });
      continue;
    }
    if (message.type !== "fill") break;
    const started = performance.now();
    await Promise.all(
      clients.flatMap((client, user) => Array.from({ length: job.inFlight }, () => lane(client, user, message.upTo!))),
    );
    send({ type: "filled", issued, acknowledged, elapsedMs: performance.now() - started });
  }
  send({ type: "result", issued, acknowledged, errors, histogram: encodeHistogram(histogram), samples });
}

async function replay(job: KeyedChargesJob, clients: Map<number, LoadClient>): Promise<void> {
  const histogram = createHistogram();
  const errors: Record<string, number> = {};
  let byteEqual = 0;
  const differing: string[] = [];
  const byUser = new Map<number, KeyedSample[]>();
  for (const sample of job.samples!) byUser.set(sample.user, [...(byUser.get(sample.user) ?? []), sample]);

  send({ type: "ready" });
  await nextMessage();
  const started = performance.now();
  await Promise.all(
    [...byUser].map(async ([user, samples]) => {
      const client = clients.get(user)!;
      const lane = async () => {
        for (let sample = samples.pop(); sample; sample = samples.pop()) {
          const began = performance.now();
          const { reply, frame } = await client.requestWithId(sample.id, "balance.charge", {
            ...CHARGE,
            idempotencyKey: sample.key,
          });
          recordMs(histogram, performance.now() - began);
          if (!reply.ok) countError(errors, reply.error!.code);
          if (frame.equals(Buffer.from(sample.frame, "base64"))) byteEqual++;
          else if (differing.length < 5) differing.push(`${frame.toString("base64")} != ${sample.frame}`);
        }
      };
      await Promise.all(Array.from({ length: job.inFlight }, lane));
    }),
  );
  send({
    type: "result",
    replayed: job.samples!.length,
    byteEqual,
    differing,
    errors,
    elapsedMs: performance.now() - started,
    histogram: encodeHistogram(histogram),
  });
}

async function main(job: KeyedChargesJob): Promise<void> {
  const jwt = (user: number) => userJwt(`${job.userPrefix}${user}`, 24 * 3600, job.secret);
  if (job.mode === "fill") {
    const clients = await connectMany(job.url, job.users, jwt);
    await fill(job, clients);
    for (const client of clients) client.close();
  } else {
    const users = [...new Set(job.samples!.map((s) => s.user))];
    const clients = await connectMany(job.url, users.length, (i) => jwt(users[i]!));
    await replay(job, new Map(users.map((user, i) => [user, clients[i]!])));
    for (const client of clients) client.close();
  }
  setTimeout(() => process.exit(0), 200);
}

process.once("message", (job: KeyedChargesJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
