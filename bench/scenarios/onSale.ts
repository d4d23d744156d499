// (h) An on-sale's opening: fans in the pre-queue, the draw, the first admissions pushed, and
// the admitted fans booking at once. (i) A 100,000-fan pre-queue: the draw's time and memory.
import { createHash } from "node:crypto";
import { HttpClient } from "../../src/client/index.js";
import { drawOrder, entryIdOf } from "../../src/draw.js";
import { startServer, type TestServer, userJwt } from "../../tests/helpers/server.js";
import { type Audit, audit } from "../lib/audit.js";
import { type BenchContext, benchEnv, profileArgs, type ScenarioResult, SECRET, serverMain } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { connectInspector, INSPECT_ARG } from "../lib/inspector.js";
import { cpuSeconds, errorFigures, forkLoad, forkWorker, rssMb, type Worker } from "../lib/processes.js";
import { gauge, scrape } from "../lib/serverMetrics.js";
import type { CheckInJob, CheckInResult } from "../load/checkIns.js";

/**
 * The opening is noticed at a tick (API.md: "the opening ... decided at a tick"), so a tick of
 * 10 ms, the least the server accepts, adds at most 10 ms (5 % of the draw's 200 ms target). A
 * tick of a room with nothing due costs microseconds: 100 a second are nothing next to the load.
 */
const TICK_MS = "10";
/** The on-sale's active set: the draw admits this many at once. */
const ACTIVE_MAX = 1000;
/** The draw's target: from opensAt to the drawn order committed. */
const DRAW_TARGET_MS = 200;

/** The `draw committed` line the server logs at an opening (src/actors/queue.ts, DrawReport). */
interface DrawLine {
  entries: number;
  admitted: number;
  noticedAt: number;
  opensAt: number;
  decideMs: number;
  drawMs: number;
  pushedMs: number;
  committedAfterOpensAtMs: number;
}

async function drawLine(server: TestServer, timeoutMs: number): Promise<DrawLine> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const line = server.logs.find((l) => l.includes('"draw committed"'));
    if (line) return JSON.parse(line) as DrawLine;
    await new Promise((done) => setTimeout(done, 5));
  }
  throw new Error(`no "draw committed" line within ${timeoutMs} ms`);
}

function onSaleServer(extraNodeArgs: string[] = []): Promise<TestServer> {
  return startServer({
    env: benchEnv({ QUEUE_TICK_MS: TICK_MS, LOG_LEVEL: "info" }),
    nodeArgs: [...profileArgs(), ...extraNodeArgs],
    main: serverMain(),
  });
}

/** A concert of one date with an on-sale that opens far ahead (moved closer once fans are in). */
async function onSaleConcert(admin: HttpClient, seats: number) {
  return admin.call("admin.concerts.create", {
    title: "On-sale",
    schedules: [{ startsAt: "2027-06-01T19:00:00.000Z", seatCount: seats, price: 1000 }],
    onSale: { opensAt: new Date(Date.now() + 3_600_000).toISOString(), activeMax: ACTIVE_MAX },
  });
}

/** Moves the opening to `delayMs` from now; returns opensAt (epoch ms). */
async function openIn(admin: HttpClient, concertId: number, delayMs: number): Promise<number> {
  const opensAt = Date.now() + delayMs;
  await admin.call("admin.onsale.update", { concertId, opensAt: new Date(opensAt).toISOString() });
  return opensAt;
}

/**
 * (h) 10,000 fans (4,000 with --quick) on WebSockets check in before the opening, in two
 * generator processes. At opensAt the draw admits the first 1,000, every fan is pushed its
 * status, and each admitted fan holds a seat at once, charges and pays: 1,000 seats, so the
 * on-sale sells out and the fans still waiting are pushed `soldout`.
 */
export async function onSaleFlash(ctx: BenchContext): Promise<ScenarioResult> {
  const fans = ctx.quick ? 4000 : 10_000;
  const seats = ACTIVE_MAX;
  const server = await onSaleServer();
  try {
    const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
    const concert = await onSaleConcert(admin, seats);
    let sold = 0;
    let onSoldOut: () => void = () => {};
    const soldOut = new Promise<void>((done) => {
      onSoldOut = done;
    });
    const loads = [0, 1].map((index) =>
      forkLoad(
        {
          mode: "onsale",
          url: server.wsUrl,
          secret: SECRET,
          userPrefix: `onsale${index}-`,
          connections: fans / 2,
          durationMs: 120_000,
          concertId: concert.id,
          scheduleIds: concert.schedules.map((s) => s.id),
          seatsPerSchedule: seats,
          partition: { index, of: 2 },
        },
        () => {
          if (++sold >= seats) onSoldOut();
        },
      ),
    );
    // Every fan is connected and checked in (`pre`) once its generator is ready.
    await Promise.all(loads.map((load) => load.ready));
    await scrape(server.url);
    const cpuBefore = cpuSeconds(server.child.pid!);
    const started = performance.now();
    const running = Promise.all(loads.map((load) => load.go()));
    const opensAt = await openIn(admin, concert.id, 1000);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([soldOut, running, new Promise((wait) => (giveUp = setTimeout(wait, 90_000)))]);
    clearTimeout(giveUp);
    const soldOutAfterMs = sold >= seats ? Date.now() - opensAt : Number.NaN;
    // The fans still in line are pushed `soldout` at the next tick; a generator ends once each
    // of its fans has its outcome. Stragglers are let go after 10 s.
    const release = setTimeout(() => {
      for (const load of loads) load.release();
    }, 10_000);
    const results = await running;
    clearTimeout(release);
    const elapsed = (performance.now() - started) / 1000;
    const serverCpuCores = (cpuSeconds(server.child.pid!) - cpuBefore) / elapsed;
    const metrics = await scrape(server.url);
    const line = await drawLine(server, 1000).catch(() => undefined);
    const hold = summarize(mergeHistograms(results.map((r) => r.histograms.hold!).filter(Boolean)));
    const paymentIds = results.flatMap((r) => r.paymentIds);
    const sum = (key: string) => results.reduce((total, r) => total + (r.extra[key] ?? 0), 0);
    const most = (key: string) => Math.max(...results.map((r) => r.extra[key] ?? Number.NaN));
    // The draw admits min(activeMax, fans) at once; admissions after it follow payments. So the
    // activeMax-th admission push to arrive is the draw's last.
    const admissions = results.flatMap((r) => r.times?.admittedAt ?? []).sort((a, b) => a - b);
    const drawAdmitted = Math.min(ACTIVE_MAX, fans);
    const lastDrawAdmission = admissions[drawAdmitted - 1];
    const ms = (at: number | undefined) => (at === undefined ? Number.NaN : Math.round(at - opensAt));
    return {
      id: "h.onsale",
      title: `(h) On-sale opening: ${fans} fans in the pre-queue, ${ACTIVE_MAX} admitted by the draw, ${seats} seats`,
      throughput: paymentIds.length / (soldOutAfterMs / 1000),
      unit: "sales/s",
      latency: hold,
      figures: {
        fans,
        seats,
        activeMax: ACTIVE_MAX,
        tickMs: Number(TICK_MS),
        notPre: sum("notPre"),
        firstAdmissionPushMs: ms(admissions[0]),
        lastDrawAdmissionPushMs: ms(lastDrawAdmission),
        lastStatusPushMs: ms(most("lastStatusAt")),
        statusPushes: sum("statusPushes"),
        admissionPushes: admissions.length,
        soldOutPushes: sum("soldOutPushes"),
        sold: paymentIds.length,
        gaveUp: sum("gaveUp"),
        soldOutAfterMs,
        serverDrawMs: line?.drawMs ?? Number.NaN,
        serverCommittedAfterOpensAtMs: line?.committedAfterOpensAtMs ?? Number.NaN,
        ...errorFigures(results),
        eventLoopLagMaxMs: Math.round(gauge(metrics, "ticketing_nodejs_eventloop_lag_max_seconds") * 1000),
        serverCpuCores: Number(serverCpuCores.toFixed(2)),
        generatorCpuCores: Number(sum("generatorCpuCores").toFixed(2)),
        generatorLagP99Ms: Math.max(...results.map((r) => r.extra.generatorLagP99Ms ?? 0)),
        seconds: Number(elapsed.toFixed(1)),
      },
      audit: await audit(server, paymentIds, server.url),
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}

/**
 * (i) 100,000 fans check in over HTTP before the opening (each a new user with a fresh JWT, 128
 * keep-alive connections): the server computes each one's place in the draw then. At opensAt
 * the opening only sorts; the server logs how long it took, timed inside it. Memory is read
 * with the pre-queue full (and after a full GC over the inspector).
 */
export async function preQueueDraw(ctx: BenchContext): Promise<ScenarioResult> {
  const fans = 100_000;
  const server = await onSaleServer([INSPECT_ARG]);
  let worker: Worker | undefined;
  try {
    const pid = server.child.pid!;
    const inspector = await connectInspector(server.logs);
    const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
    const concert = await onSaleConcert(admin, 5000);
    const readRss = async () => {
      const asRead = rssMb(pid);
      await inspector.collectGarbage();
      return [Number(asRead.toFixed(1)), Number(rssMb(pid).toFixed(1))] as const;
    };
    const [emptyRss, emptyRssGc] = await readRss();
    worker = forkWorker("checkIns.js", {
      port: server.port,
      secret: SECRET,
      userPrefix: "prequeue-",
      pool: fans,
      concertId: concert.id,
      connections: 128,
      depth: 1,
    } satisfies CheckInJob);
    await worker.next("ready");
    const cpuBefore = cpuSeconds(pid);
    worker.send({ type: "go", count: fans });
    const fill = (await worker.next("result")) as unknown as CheckInResult;
    const fillCpu = cpuSeconds(pid) - cpuBefore;
    const checkedIn = fill.statuses["200"] ?? 0;
    await new Promise((done) => setTimeout(done, 500));
    const [fullRss, fullRssGc] = await readRss();

    const opensAt = await openIn(admin, concert.id, 1000);
    const line = await drawLine(server, ctx.seconds(30, 30) * 1000);
    const afterRss = rssMb(pid);
    const drawAudit = await checkDraw(server, concert.id, fans, "prequeue-");
    inspector.close();
    const committed = line.committedAfterOpensAtMs;
    return {
      id: "i.prequeue",
      title: `(i) A ${fans.toLocaleString("en-US")}-fan pre-queue: the draw at the opening, and memory`,
      throughput: checkedIn / (fill.elapsedMs / 1000),
      unit: "check-ins/s (fill)",
      latency: summarize(mergeHistograms([fill.histogram])),
      figures: {
        fans,
        checkedIn,
        ...Object.fromEntries(
          Object.entries(fill.statuses)
            .filter(([status]) => status !== "200")
            .map(([status, n]) => [`status.${status}`, n]),
        ),
        fillSeconds: Number((fill.elapsedMs / 1000).toFixed(1)),
        fillServerCpuUsPerCheckIn: Number(((fillCpu / checkedIn) * 1e6).toFixed(1)),
        tickMs: Number(TICK_MS),
        noticedAfterOpensAtMs: line.noticedAt - opensAt,
        decideMs: line.decideMs,
        drawMs: line.drawMs,
        pushedMs: line.pushedMs,
        committedAfterOpensAtMs: committed,
        drawnEntries: line.entries,
        admitted: line.admitted,
        rssEmptyMb: emptyRss,
        rssEmptyAfterGcMb: emptyRssGc,
        rssFullMb: fullRss,
        rssFullAfterGcMb: fullRssGc,
        rssAfterDrawMb: Number(afterRss.toFixed(1)),
        bytesPerPreTokenAfterGc: Math.round(((fullRssGc - emptyRssGc) * 1024 * 1024) / checkedIn),
        generatorCpuCores: fill.generatorCpuCores,
      },
      audit: drawAudit,
      targets: {
        "opensAt to drawn order committed (ms)": {
          measured: committed,
          target: `< ${DRAW_TARGET_MS}`,
          met: committed < DRAW_TARGET_MS,
        },
      },
    };
  } finally {
    worker?.send({ type: "stop" });
    await server.stop();
    server.cleanup();
  }
}

/**
 * The published draw checks out from its published values alone: the seed matches the
 * commitment, the entries are exactly the fans who checked in, in the seed's order.
 */
async function checkDraw(server: TestServer, concertId: number, fans: number, prefix: string): Promise<Audit> {
  const client = new HttpClient({ baseUrl: server.url, token: userJwt("auditor", 3600, SECRET) });
  const draw = await client.call("draw.get", { concertId });
  const problems: string[] = [];
  if (draw.seed === null || createHash("sha256").update(draw.seed, "ascii").digest("hex") !== draw.commitment) {
    problems.push("the seed does not match the commitment");
  }
  if (draw.entries.length !== fans) problems.push(`${draw.entries.length} entries drawn for ${fans} fans`);
  const expected = new Set(Array.from({ length: fans }, (_, i) => entryIdOf(concertId, `${prefix}${i}`)));
  const strangers = draw.entries.filter((entry) => !expected.has(entry)).length;
  if (strangers > 0) problems.push(`${strangers} entries of no fan who checked in`);
  if (draw.seed !== null) {
    const order = drawOrder(draw.seed, draw.entries);
    const misplaced = order.filter((entry, i) => entry !== draw.entries[i]).length;
    if (misplaced > 0) problems.push(`${misplaced} entries out of the seed's order`);
  }
  return { ok: problems.length === 0, problems, checked: { entries: draw.entries.length, fans } };
}
