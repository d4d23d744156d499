// WebSocket load generator, run as its own process (forked with IPC by bench/run.ts).
// It receives one Job, connects, reports "ready", waits for "go", runs, and sends its result.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { userJwt } from "../../tests/helpers/server.js";
import { createHistogram, encodeHistogram, type Histogram, recordMs } from "../lib/histogram.js";
import { type Deliveries, type DeliveryClock, watchPushes } from "./deliveries.js";
import { connectMany, type LoadClient, type Reply } from "./wsClient.js";

export type Mode = "echo" | "mix" | "holds" | "flash" | "fanout" | "waiting" | "holdfill" | "onsale";

export interface Job {
  mode: Mode;
  url: string;
  secret: string;
  userPrefix: string;
  connections: number;
  durationMs: number;
  /** Open loop: total requests per second across connections (closed loop when absent). */
  rate?: number;
  /** Big schedules to hold on, their seat count, and a small one for seats.list. */
  scheduleIds?: number[];
  seatsPerSchedule?: number;
  smallScheduleId?: number;
  concertId?: number;
  /** fanout: the schedule to watch, changes per second to drive, share of subscribers that decode. */
  changesPerSecond?: number;
  sampleEvery?: number;
  /** fanout against the ceiling server: the driver coalesces and publishes itself. */
  ceiling?: boolean;
  windowMs?: number;
  /** holdfill: holds per connection. */
  holdsPerConnection?: number;
  /** onsale: this generator's share of the seats (seat numbers n with (n - 1) % of === index). */
  partition?: { index: number; of: number };
  localAddresses?: string[];
  /**
   * fanout, flash: this many more connections that only watch the schedule, spread over
   * `watcherUrls` (a cluster's nodes); their pushes are timed (deliveries.ts: `fromAck`,
   * `fromPublish`, and per URL `fromAck.n<k>` for watchers on watcherUrls[k]).
   */
  watchers?: number;
  watcherUrls?: string[];
  /** flash: fans and watchers check in to this concert's waiting room (its on-sale), not the site room. */
  checkInConcertId?: number;
  /**
   * With watchers on a cluster: its NATS, where this process also hears the owner publish each diff
   * of the schedule, and times each watcher's push of it from then (`fromPublish`, `fromPublish.n<k>`).
   */
  natsUrl?: string;
}

export interface JobResult {
  ops: number;
  errors: Record<string, number>;
  elapsedMs: number;
  histograms: Record<string, string>;
  paymentIds: number[];
  extra: Record<string, number>;
  /** Moments by name (onsale: the wall-clock time of each admission push), when a mode keeps them. */
  times?: Record<string, number[]>;
}

const send = (message: object) => process.send?.(message);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const randomInt = (n: number) => Math.floor(Math.random() * n);

class Recorder {
  ops = 0;
  errors: Record<string, number> = {};
  histograms = new Map<string, Histogram>();
  paymentIds: number[] = [];
  extra: Record<string, number> = {};
  times: Record<string, number[]> = {};

  async timed(client: LoadClient, name: string, op: string, args: object, intendedStart?: number): Promise<Reply> {
    const started = intendedStart ?? performance.now();
    const reply = await client.request(op, args);
    this.record(name, performance.now() - started);
    if (!reply.ok) this.errors[reply.error!.code] = (this.errors[reply.error!.code] ?? 0) + 1;
    return reply;
  }

  record(name: string, ms: number): void {
    let histogram = this.histograms.get(name);
    if (!histogram) this.histograms.set(name, (histogram = createHistogram()));
    recordMs(histogram, ms);
    this.ops++;
  }

  result(elapsedMs: number): JobResult {
    const histograms: Record<string, string> = {};
    for (const [name, histogram] of this.histograms) histograms[name] = encodeHistogram(histogram);
    return {
      ops: this.ops,
      errors: this.errors,
      elapsedMs,
      histograms,
      paymentIds: this.paymentIds,
      extra: this.extra,
      times: this.times,
    };
  }
}

async function main(job: Job): Promise<void> {
  const jwt = (i: number) => userJwt(`${job.userPrefix}${i}`, 24 * 3600, job.secret);
  const clients = await connectMany(job.url, job.connections, jwt, { localAddresses: job.localAddresses });
  const watcherUrls = job.watcherUrls ?? [job.url];
  const watchers = await connectMany(
    (i) => watcherUrls[i % watcherUrls.length]!,
    job.watchers ?? 0,
    (i) => jwt(job.connections + i),
  );
  const recorder = new Recorder();
  if (job.mode !== "echo") await setUp(job, clients, recorder, watchers);
  send({ type: "ready" });
  await new Promise<void>((done) => process.once("message", () => done()));
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  // The generator's own event-loop delay: a late generator adds to every latency it measures.
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const deadline = started + job.durationMs;
  await RUNS[job.mode](job, clients, recorder, deadline, watchers);
  const elapsed = performance.now() - started;
  // The generator's own CPU: on two shared cores it tells whether it or the server was the limit.
  const cpu = process.cpuUsage(cpuAtStart);
  recorder.extra.generatorCpuCores = Number(((cpu.user + cpu.system) / 1000 / elapsed).toFixed(2));
  lag.disable();
  recorder.extra.generatorLagP99Ms = Number((lag.percentile(99) / 1e6).toFixed(1));
  send({ type: "result", result: recorder.result(elapsed) });
  // Waiting sockets stay open until the orchestrator has measured the server.
  if (job.mode === "waiting" || job.mode === "fanout") await new Promise((done) => process.once("message", done));
  for (const client of [...clients, ...watchers]) client.close();
  setTimeout(() => process.exit(0), 200);
}

/** Every identity checks into the waiting room; booking modes also get money. */
async function setUp(job: Job, clients: LoadClient[], recorder: Recorder, watchers: LoadClient[]): Promise<void> {
  if (job.mode === "flash") return subscribeWatchers(job, watchers);
  if (job.mode === "waiting") return;
  if (job.mode === "onsale") return preCheckIn(job, clients, recorder);
  await Promise.all(
    [...clients, ...watchers].map(async (client) => {
      await client.request("queue.check");
      if (job.mode === "mix" || job.mode === "holds") await client.request("balance.charge", { amount: 10_000_000 });
    }),
  );
  // Fan-out subscribers take their (large) snapshots before the measured phase, a few at a time.
  if (job.mode === "fanout") {
    const subscribers = watchers.length > 0 ? watchers : clients.slice(1);
    for (let i = 0; i < subscribers.length; i += 100) {
      await Promise.all(
        subscribers
          .slice(i, i + 100)
          .map((client) => client.request("seats.subscribe", { scheduleId: job.scheduleIds![0] })),
      );
    }
  }
}

type Run = (
  job: Job,
  clients: LoadClient[],
  recorder: Recorder,
  deadline: number,
  watchers: LoadClient[],
) => Promise<void>;

const RUNS: Record<Mode, Run> = {
  /** The ceiling: the same frames to an echo server that decodes and encodes them. */
  async echo(_job, clients, recorder, deadline) {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) {
          await recorder.timed(client, "echo", "echo", { scheduleId: 1, seatNo: randomInt(100_000) + 1 });
        }
      }),
    );
  },

  /** Booking mix, closed loop: hold, then release or pay (+ queue.check), seats.list every 10th. */
  async mix(job, clients, recorder, deadline) {
    if (job.rate) return openLoopMix(job, clients, recorder, deadline);
    await Promise.all(clients.map((client) => mixSession(job, client, recorder, () => performance.now() < deadline)));
  },

  /** Durable-mode holds: every request a new hold, as fast as the group commit allows. */
  async holds(job, clients, recorder, deadline) {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline)
          await recorder.timed(client, "hold", "reservations.create", randomSeat(job));
      }),
    );
  },

  /**
   * Flash sale: everyone checks in within a second and waits for admission; an admitted fan
   * picks a seat the live map shows free (one subscription per generator process stands for
   * the map every fan sees), holds it and pays. The orchestrator says "stop" once all are sold.
   */
  async flash(job, clients, recorder, deadline, watchers) {
    const admittedAt: number[] = [];
    let gaveUp = 0;
    const soldOut = new Promise<void>((done) => process.once("message", () => done()));
    const spread = 1000 / clients.length;
    const scheduleId = job.scheduleIds![0]!;
    const free = new FreeSeats(job.seatsPerSchedule!);
    const until = Promise.race([soldOut, sleep(Math.max(0, deadline - performance.now()))]);
    const deliveries = await timeDeliveries(job, recorder, watchers);
    const checkIn = checkInArgs(job);
    const [watcher] = clients;
    await watcher!.request("queue.check", checkIn);
    await watcher!.request("seats.subscribe", { scheduleId });
    watcher!.onPush = (push) => {
      if (push.ev !== "seats") return;
      for (const change of push.changes as { no: number; status: string }[]) {
        if (change.status === "available") free.add(change.no);
        else free.remove(change.no);
      }
    };
    await Promise.all(
      clients.slice(1).map(async (client, index) => {
        await sleep(index * spread);
        const admitted = new Promise<void>((done) => {
          client.onPush = (push) => {
            if (push.ev === "queue" && push.status === "active") done();
          };
        });
        const checkedIn = performance.now();
        const check = await recorder.timed(client, "queue.check", "queue.check", checkIn);
        if (!check.ok) return;
        if (
          check.data.status !== "active" &&
          (await Promise.race([admitted.then(() => true), until.then(() => false)])) === false
        ) {
          return;
        }
        admittedAt.push(performance.now() - checkedIn);
        while (free.size > 0) {
          const seatNo = free.random();
          const bought = await buySeat(client, recorder, scheduleId, seatNo, deliveries?.fromAck);
          if (bought === "taken") {
            free.remove(seatNo);
            continue;
          }
          return;
        }
        gaveUp++;
      }),
    );
    recorder.extra.admitted = admittedAt.length;
    recorder.extra.gaveUp = gaveUp;
    await deliveries?.finish();
  },

  /**
   * An on-sale's opening: every fan checked in before it (setUp) and waits for its push. At the
   * draw each is pushed its status; an admitted fan holds a seat at once, charges and pays. The
   * times of the pushes are wall-clock (epoch ms), to compare with the opening's time.
   */
  async onsale(job, clients, recorder, deadline) {
    const stop = new Promise<void>((done) => process.once("message", () => done()));
    const until = Promise.race([stop, sleep(Math.max(0, deadline - performance.now()))]);
    const scheduleId = job.scheduleIds![0]!;
    const { index, of } = job.partition ?? { index: 0, of: 1 };
    const own = new FreeSeats(job.seatsPerSchedule!, (no) => (no - 1) % of === index);
    const others = new FreeSeats(job.seatsPerSchedule!, (no) => (no - 1) % of !== index);
    const wallClock = () => performance.timeOrigin + performance.now();
    const times = { firstStatus: Infinity, lastStatus: 0, firstAdmitted: Infinity, lastAdmitted: 0 };
    let statusPushes = 0;
    let admitted = 0;
    const admittedAt: number[] = [];
    recorder.times.admittedAt = admittedAt;
    let soldOutPushes = 0;
    let gaveUp = 0;
    await Promise.all(
      clients.map(async (client) => {
        let told = false;
        const outcome = new Promise<"active" | "soldout">((done) => {
          client.onPush = (push) => {
            if (push.ev !== "queue") return;
            const at = wallClock();
            if (!told && (push.status === "waiting" || push.status === "active")) {
              told = true;
              statusPushes++;
              times.firstStatus = Math.min(times.firstStatus, at);
              times.lastStatus = Math.max(times.lastStatus, at);
            }
            if (push.status === "active") {
              admitted++;
              admittedAt.push(at);
              times.firstAdmitted = Math.min(times.firstAdmitted, at);
              times.lastAdmitted = Math.max(times.lastAdmitted, at);
              done("active");
            }
            if (push.status === "soldout") {
              soldOutPushes++;
              done("soldout");
            }
          };
        });
        if ((await Promise.race([outcome, until.then(() => "stopped" as const)])) !== "active") return;
        // Its own share first (no other generator's fans take from it), then anyone's.
        for (let attempt = 0; attempt < 20; attempt++) {
          const free = own.size > 0 ? own : others;
          if (free.size === 0) break;
          const seatNo = free.random();
          free.remove(seatNo);
          if ((await buySeat(client, recorder, scheduleId, seatNo)) === "taken") continue;
          return;
        }
        gaveUp++;
      }),
    );
    Object.assign(recorder.extra, { statusPushes, admitted, soldOutPushes, gaveUp });
    if (statusPushes > 0)
      Object.assign(recorder.extra, { firstStatusAt: times.firstStatus, lastStatusAt: times.lastStatus });
    if (admitted > 0)
      Object.assign(recorder.extra, { firstAdmittedAt: times.firstAdmitted, lastAdmittedAt: times.lastAdmitted });
  },

  /** Fan-out: connection 0 drives seat changes; the others are subscribers, a sample of them timed. */
  async fanout(job, clients, recorder, deadline, watchers) {
    const [driver, ...others] = clients;
    const subscribers = watchers.length > 0 ? watchers : others;
    const sentAt = new Map<number, number>();
    const sampleEvery = job.sampleEvery ?? 50;
    const scheduleId = job.scheduleIds![0]!;
    const deliveries = await timeDeliveries(job, recorder, watchers);
    subscribers.forEach((client, index) => {
      client.decodePushes = sampleEvery !== Number.MAX_SAFE_INTEGER && index % sampleEvery === 0;
      const timed = client.onPush; // the watchers' (timeDeliveries)
      client.onPush = (push, raw) => {
        if (push.ev !== "seats") return;
        const now = performance.now();
        for (const change of push.changes as { no: number }[]) {
          const at = sentAt.get(change.no);
          if (at !== undefined) recorder.record("delivery", now - at);
        }
        timed(push, raw);
      };
    });
    if (!job.changesPerSecond) {
      // A bystander generator: its connections only receive.
      await sleep(Math.max(0, deadline - performance.now()) + 500);
      recorder.extra.pushesReceived = subscribers.reduce((sum, client) => sum + client.pushesSeen, 0);
      return;
    }
    const held: number[] = [];
    const start = performance.now();
    let issued = 0;
    let seat = 0;
    // The ceiling run has no server to coalesce: the driver does it, one publish per window.
    let pending: { no: number; status: string }[] = [];
    let lastPublish = start;
    let version = 0;
    // Every 5 ms, issue the changes that are due, so the event loop keeps reading replies and pushes.
    while (performance.now() < deadline) {
      const due = Math.floor(((performance.now() - start) / 1000) * job.changesPerSecond) - issued;
      for (let k = 0; k < due; k++, issued++) {
        const seatNo = (seat++ % job.seatsPerSchedule!) + 1;
        if (job.ceiling) {
          sentAt.set(seatNo, performance.now());
          pending.push({ no: seatNo, status: "held" });
        } else if (held.length >= 4) {
          // Alternate holds and releases on a window of seats so the map keeps changing.
          void recorder.timed(driver!, "release", "reservations.release", { reservationId: held.shift()! });
        } else {
          sentAt.set(seatNo, performance.now());
          deliveries?.fromAck.forget(seatNo);
          void recorder.timed(driver!, "hold", "reservations.create", { scheduleId, seatNo }).then((reply) => {
            if (!reply.ok) return;
            held.push(reply.data.reservationId);
            deliveries?.fromAck.reference(seatNo, performance.now());
          });
        }
      }
      if (job.ceiling && pending.length > 0 && performance.now() - lastPublish >= (job.windowMs ?? 20)) {
        const push = { ev: "seats", scheduleId, version: ++version, changes: pending };
        void recorder.timed(driver!, "publish", "publish", { push });
        pending = [];
        lastPublish = performance.now();
      }
      await sleep(5);
    }
    recorder.extra.changesIssued = issued;
    await sleep(500);
    await deliveries?.finish();
    recorder.extra.pushesReceived = subscribers.reduce((sum, client) => sum + client.pushesSeen, 0);
  },

  /** Waiting sockets: every connection checks in and then just stays. */
  async waiting(_job, clients, recorder) {
    for (let i = 0; i < clients.length; i += 500) {
      await Promise.all(
        clients.slice(i, i + 500).map((client) => recorder.timed(client, "queue.check", "queue.check", {})),
      );
    }
  },

  /** Memory: each connection holds `holdsPerConnection` seats, disjoint ranges of one schedule. */
  async holdfill(job, clients, recorder) {
    const per = job.holdsPerConnection!;
    const scheduleId = job.scheduleIds![0]!;
    await Promise.all(
      clients.map(async (client, index) => {
        for (let k = 0; k < per; k++) {
          await recorder.timed(client, "hold", "reservations.create", { scheduleId, seatNo: index * per + k + 1 });
        }
      }),
    );
  },
};

/** The arguments of a flash fan's check-in: the on-sale's room when the job names one, else the site room. */
function checkInArgs(job: Job): { concertId?: number } {
  return job.checkInConcertId === undefined ? {} : { concertId: job.checkInConcertId };
}

/** flash with watchers: each checks in (taking a place in the active set before any fan) and subscribes. */
async function subscribeWatchers(job: Job, watchers: LoadClient[]): Promise<void> {
  for (let i = 0; i < watchers.length; i += 100) {
    await Promise.all(
      watchers.slice(i, i + 100).map(async (client) => {
        const check = await client.request("queue.check", checkInArgs(job));
        if (!check.ok || check.data.status !== "active")
          throw new Error(`a watcher was not admitted: ${JSON.stringify(check)}`);
        const subscribed = await client.request("seats.subscribe", { scheduleId: job.scheduleIds![0] });
        if (!subscribed.ok) throw new Error(`a watcher could not subscribe: ${JSON.stringify(subscribed.error)}`);
      }),
    );
  }
}

/** timeDeliveries (deliveries.ts) for this job's watchers, recording into `recorder`. */
function timeDeliveries(job: Job, recorder: Recorder, watchers: LoadClient[]): Promise<Deliveries | undefined> {
  return watchPushes({
    watchers,
    groups: (job.watcherUrls ?? [job.url]).length,
    scheduleId: job.scheduleIds![0]!,
    natsUrl: job.natsUrl,
    record: (name, ms) => recorder.record(name, ms),
    count: (name, n) => {
      recorder.extra[name] = n;
    },
  });
}

/** Before the opening: every fan checks in to the on-sale (500 at a time) and gets `pre`. */
async function preCheckIn(job: Job, clients: LoadClient[], recorder: Recorder): Promise<void> {
  let notPre = 0;
  for (let i = 0; i < clients.length; i += 500) {
    await Promise.all(
      clients.slice(i, i + 500).map(async (client) => {
        const reply = await recorder.timed(client, "queue.check", "queue.check", { concertId: job.concertId });
        if (!reply.ok || reply.data.status !== "pre") notPre++;
      }),
    );
  }
  recorder.extra.notPre = notPre;
}

/**
 * An admitted fan buys `seatNo`: hold, charge the price, pay; a sale is reported to the parent.
 * "taken" when the hold was refused (the caller tries another seat).
 */
async function buySeat(
  client: LoadClient,
  recorder: Recorder,
  scheduleId: number,
  seatNo: number,
  fromAck?: DeliveryClock,
): Promise<"taken" | "held"> {
  const hold = await recorder.timed(client, "hold", "reservations.create", { scheduleId, seatNo });
  if (!hold.ok) return "taken";
  fromAck?.reference(seatNo, performance.now());
  await client.request("balance.charge", { amount: hold.data.price });
  const pay = await recorder.timed(client, "pay", "payments.create", { reservationIds: [hold.data.reservationId] });
  if (pay.ok) {
    recorder.paymentIds.push(pay.data.paymentId);
    send({ type: "sale" });
  }
  return "held";
}

function randomSeat(job: Job): { scheduleId: number; seatNo: number } {
  const ids = job.scheduleIds!;
  return { scheduleId: ids[randomInt(ids.length)]!, seatNo: randomInt(job.seatsPerSchedule!) + 1 };
}

async function mixSession(job: Job, client: LoadClient, recorder: Recorder, going: () => boolean): Promise<void> {
  let round = 0;
  while (going()) {
    round++;
    const hold = await recorder.timed(client, "hold", "reservations.create", randomSeat(job));
    if (hold.ok) {
      const reservationId = hold.data.reservationId;
      if (round % 2 === 0) {
        await recorder.timed(client, "release", "reservations.release", { reservationId });
      } else {
        const pay = await recorder.timed(client, "pay", "payments.create", { reservationIds: [reservationId] });
        if (pay.ok) recorder.paymentIds.push(pay.data.paymentId);
        // A payment ends the queue token: check in again before the next hold.
        await recorder.timed(client, "queue.check", "queue.check", {});
      }
    }
    if (round % 10 === 0) await recorder.timed(client, "seats.list", "seats.list", { scheduleId: job.smallScheduleId });
  }
}

/**
 * Open loop: requests start on a fixed schedule whatever the replies do; latency counts from the
 * intended start (no coordinated omission). Each start runs one step of an idle connection's mix.
 */
async function openLoopMix(job: Job, clients: LoadClient[], recorder: Recorder, deadline: number): Promise<void> {
  const idle = [...clients];
  const held = new Map<LoadClient, number>();
  const interval = 1000 / job.rate!;
  let intended = performance.now();
  let late = 0;
  const inflight = new Set<Promise<void>>();
  while (intended < deadline) {
    const now = performance.now();
    while (intended <= now && intended < deadline) {
      const client = idle.pop();
      if (!client) {
        late++;
        intended += interval;
        continue;
      }
      const start = intended;
      const step = (async () => {
        const reservationId = held.get(client);
        if (reservationId !== undefined) {
          held.delete(client);
          await recorder.timed(client, "release", "reservations.release", { reservationId }, start);
        } else {
          const hold = await recorder.timed(client, "hold", "reservations.create", randomSeat(job), start);
          if (hold.ok) held.set(client, hold.data.reservationId);
        }
        idle.push(client);
      })();
      inflight.add(step);
      void step.then(() => inflight.delete(step));
      intended += interval;
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  recorder.extra.missedStarts = late;
}

process.once("message", (job: Job) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});

/** The seats a fan's map shows free: O(1) add, remove and random pick. */
class FreeSeats {
  private readonly list: number[] = [];
  private readonly index: Int32Array;

  constructor(seats: number, includes: (no: number) => boolean = () => true) {
    this.index = new Int32Array(seats + 1).fill(-1);
    for (let no = 1; no <= seats; no++) if (includes(no)) this.add(no);
  }

  get size(): number {
    return this.list.length;
  }

  add(no: number): void {
    if (this.index[no] !== -1) return;
    this.index[no] = this.list.length;
    this.list.push(no);
  }

  remove(no: number): void {
    const at = this.index[no]!;
    if (at === -1) return;
    const last = this.list.pop()!;
    if (last !== no) {
      this.list[at] = last;
      this.index[last] = at;
    }
    this.index[no] = -1;
  }

  random(): number {
    return this.list[randomInt(this.list.length)]!;
  }
}
