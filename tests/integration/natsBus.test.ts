// The NATS bus of the cluster (src/cluster/bus.ts) against a real, private nats-server: request/reply
// with MessagePack payloads and ApiErrors carried across, 503 when nobody answers, fan-out to two
// nodes, and subscriptions that come back after nats-server is killed and restarted.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, connectBus } from "../../src/cluster/bus.js";
import { subjects } from "../../src/cluster/subjects.js";
import { ApiError } from "../../src/errors.js";
import { StartupError } from "../../src/startupError.js";
import { type NatsServer, natsBinary, startNats } from "../helpers/nats.js";
import { freePort } from "../helpers/postgres.js";

const inCi = process.env.CI === "true" || process.env.CI === "1";
const missing = natsBinary() === undefined;
// Without the binary the suite is reported as skipped with the reason, except under CI=true,
// where startNats fails it (.ci/run installs nats-server).
const title = (name: string) =>
  missing && !inCi ? `${name} (skipped: no nats-server binary; apt-get install nats-server)` : name;

/** A logger whose JSON lines a test can read. */
function capturingLog() {
  const lines: { msg: string; node?: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: "info", base: undefined }, stream), lines };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe.skipIf(missing && !inCi)(title("the NATS bus on a private nats-server"), () => {
  let nats: NatsServer;
  const buses: Bus[] = [];
  const node = async (nodeId: string, url = nats.url, log = capturingLog().log) => {
    const bus = await connectBus({ url, nodeId, log, connectTimeoutSeconds: 5, retryAfterSeconds: 2 });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    const started = performance.now();
    nats = await startNats();
    console.log(`${nats.version} on port ${nats.port}, ready in ${Math.round(performance.now() - started)} ms`);
  });

  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await nats?.stop();
  });

  it("carries a request and its reply as MessagePack between two nodes", async () => {
    const [owner, gateway] = [await node("owner"), await node("gateway")];
    owner.serve(subjects.actor(7), (payload, subject) => ({ node: owner.nodeId, subject, payload }));
    await owner.flush(); // the subscription has reached the server
    const payload = {
      op: "holds.create",
      seatIds: [1, 2, 3],
      userId: 2 ** 40,
      price: 12.5,
      note: "ünïcode ✓",
      key: null,
      raw: new Uint8Array([0, 255, 7]),
    };
    expect(await gateway.request(subjects.actor(7), payload, 2000)).toEqual({
      node: "owner",
      subject: "tickets.actor.7",
      payload: { ...payload, raw: Buffer.from(payload.raw) }, // binary arrives as a Buffer (msgpackr on Node)
    });
  });

  it("re-throws a responder's ApiError with its code, message and Retry-After; any other error is INTERNAL", async () => {
    const [owner, gateway] = [await node("owner"), await node("gateway")];
    owner.serve(subjects.actor(8), (payload) => {
      if (payload === "held") throw new ApiError("SEAT_UNAVAILABLE", "seat 3 is held");
      if (payload === "moving") throw new ApiError("UNAVAILABLE", "concert 8 is moving", 7);
      throw new Error("a bug on the owner");
    });
    await owner.flush();
    const held = await rejection(gateway.request(subjects.actor(8), "held", 2000));
    expect([held.code, held.message, held.status, held.retryAfter]).toEqual([
      "SEAT_UNAVAILABLE",
      "seat 3 is held",
      409,
      undefined,
    ]);
    const moving = await rejection(gateway.request(subjects.actor(8), "moving", 2000));
    expect([moving.code, moving.retryAfter]).toEqual(["UNAVAILABLE", 7]);
    const bug = await rejection(gateway.request(subjects.actor(8), "bug", 2000));
    expect([bug.code, bug.message]).toEqual(["INTERNAL", "internal error on node owner"]);
  });

  it("answers 503 UNAVAILABLE with Retry-After at once when no node serves the subject", async () => {
    const gateway = await node("gateway");
    const started = performance.now();
    const error = await rejection(gateway.request(subjects.actor(9), { op: "x" }, 5000));
    expect(performance.now() - started).toBeLessThan(1000); // no responders: not a time-out
    expect([error.code, error.status, error.retryAfter]).toEqual(["UNAVAILABLE", 503, 2]);
    expect(error.message).toContain("tickets.actor.9");
    expect(error.message).toContain("no node serves it");
  });

  it("answers 503 UNAVAILABLE after the time-out when the owner does not answer", async () => {
    const [owner, gateway] = [await node("owner"), await node("gateway")];
    let calls = 0;
    owner.serve(subjects.actor(10), async () => {
      calls++;
      await sleep(1000);
      return "too late";
    });
    await owner.flush();
    const started = performance.now();
    const error = await rejection(gateway.request(subjects.actor(10), {}, 200));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(900);
    expect([error.code, error.retryAfter]).toEqual(["UNAVAILABLE", 2]);
    expect(error.message).toContain("no answer in 200 ms");
    expect(calls).toBe(1); // it did reach the owner: only the answer was late
  });

  it("fans a publish out to every node subscribed to the schedule, and to no other schedule", async () => {
    const [owner, b, c] = [await node("owner"), await node("b"), await node("c")];
    const received: Record<string, unknown[]> = { b: [], c: [], other: [] };
    b.subscribe(subjects.seats(5), (payload) => received.b!.push(payload));
    c.subscribe(subjects.seats(5), (payload) => received.c!.push(payload));
    c.subscribe(subjects.seats(6), (payload) => received.other!.push(payload));
    // Subscriptions reach the server asynchronously: flush waits until it has them.
    await Promise.all([b.flush(), c.flush()]);
    const diffs = [1, 2, 3].map((version) => ({ scheduleId: 5, version, seats: [[version, "held"]] }));
    for (const diff of diffs) owner.publish(subjects.seats(5), diff);
    await until(() => received.b!.length === 3 && received.c!.length === 3, 2000, "both nodes to get 3 diffs");
    expect(received.b).toEqual(diffs);
    expect(received.c).toEqual(diffs);
    expect(received.other).toEqual([]);
  });

  it("delivers to a subscriber again after nats-server is killed and restarted on the same port", async () => {
    const own = await startNats();
    try {
      const logs = { a: capturingLog(), b: capturingLog() };
      const a = await node("a", own.url, logs.a.log);
      const b = await node("b", own.url, logs.b.log);
      const received: number[] = [];
      b.subscribe(subjects.seats(1), (payload) => received.push(payload as number));
      b.serve("tickets.ping.b", () => "pong");
      await b.flush();
      a.publish(subjects.seats(1), 1);
      await until(() => received.includes(1), 2000, "the first message");

      const killed = performance.now();
      await own.kill();
      await until(
        () =>
          [logs.a, logs.b].every(({ lines }) =>
            lines.some((line) => line.msg === "NATS connection lost; reconnecting"),
          ),
        5000,
        "both nodes to notice the loss",
      );
      const down = await rejection(a.request("tickets.ping.b", null, 300));
      expect(down.code).toBe("UNAVAILABLE");
      const restarting = performance.now();
      await own.restart();
      const restarted = performance.now();
      // Publish until b hears again: both clients must have reconnected and b re-subscribed.
      for (let n = 2; !received.some((value) => value >= 2); n++) {
        if (performance.now() - restarted > 10_000) throw new Error("no delivery within 10 s of the restart");
        a.publish(subjects.seats(1), n);
        await sleep(20);
      }
      console.log(
        `nats-server restart: ${Math.round(restarted - restarting)} ms to ready; ` +
          `delivery again ${Math.round(performance.now() - restarted)} ms later (${Math.round(performance.now() - killed)} ms after the kill)`,
      );
      expect(await a.request("tickets.ping.b", null, 2000)).toBe("pong");
      for (const { lines } of [logs.a, logs.b]) {
        expect(lines.filter((line) => line.msg === "NATS connection lost; reconnecting")).toHaveLength(1);
        expect(lines.filter((line) => line.msg === "NATS connection back")).toHaveLength(1);
      }
      await Promise.all([a.close(), b.close()]);
    } finally {
      await own.stop();
    }
  });

  it("gives up connecting after its time-out with a StartupError (exit 1) naming the URL", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`; // nothing listens there
    const { log, lines } = capturingLog();
    const started = performance.now();
    const error = await connectBus({ url, nodeId: "lonely", log, connectTimeoutSeconds: 1 }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).exitCode).toBe(1);
    expect((error as StartupError).message).toContain(`cannot connect to NATS at ${url}`);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(3000);
    expect(lines.filter((line) => line.msg === "NATS does not answer yet; retrying")).toHaveLength(1);
  });

  it("connects when nats-server comes up within the time-out", async () => {
    const late = await startNats();
    await late.kill(); // its port is known and free now
    const { log } = capturingLog();
    const connecting = connectBus({ url: late.url, nodeId: "early", log, connectTimeoutSeconds: 10 });
    await sleep(700);
    await late.restart();
    try {
      const bus = await connecting;
      bus.serve("tickets.ping.early", () => "pong");
      expect(await bus.request("tickets.ping.early", null, 1000)).toBe("pong");
      await bus.close();
    } finally {
      await late.stop();
    }
  });
});
