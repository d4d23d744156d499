// (l) Venues and best available (issue 16):
// - l.best.server: reservations.best's own time on a 100,000-seat schedule 90 % taken (86 % sold,
//   4 % held), in process on a real store (tests/helpers/core.ts): the pure bestAvailable call on
//   the live map, the schedule's decision turn (holdBest up to its commit), the op with its
//   commit, and the whole request through the dispatcher (JWT, gate, zod, commit).
// - l.best.fans / l.holds.fans: 1,000 fans over WebSockets against a started server ask for the
//   best 4 at once, beside the same fans holding 4 single seats each with reservations.create, on
//   fresh schedules of the same 50,000-seat stadium, in the order best, singles, singles, best.
//   Audit: no seat in two blocks, every block 4 adjacent seats of one row, no seat live twice in
//   the database.
// - l.snapshot: bytes of a 50,000-seat snapshot (full seats.list, compact, layout document) in
//   MessagePack as the WS codec sends it and in JSON, and the server's CPU to build each.
import { join } from "node:path";
import Database from "better-sqlite3";
import { Packr } from "msgpackr";
import { HttpClient } from "../../src/client/index.js";
import type { SeatLayout } from "../../src/venues/layout.js";
import { layoutDocument } from "../../src/venues/snapshot.js";
import type { NamedVenue } from "../../src/venues/venue.js";
import { encodeReply } from "../../src/ws/codec.js";
import { type InProcess, startCore } from "../../tests/helpers/core.js";
import { seededRandom } from "../../tests/helpers/random.js";
import { audit } from "../lib/audit.js";
import { type BenchContext, benchEnv, bookingServer, type ScenarioResult, SECRET } from "../lib/context.js";
import { createHistogram, mergeHistograms, recordMs, summarize } from "../lib/histogram.js";
import { cpuSeconds, forkWorker } from "../lib/processes.js";
import { opLatency, scrape } from "../lib/serverMetrics.js";
import { auditBlocks, bigVenue, layoutOf, stadium, takenPattern } from "../lib/venues.js";
import type { FansPhase, FansPhaseResult } from "../load/venueFans.js";

const STARTS_AT = "2027-06-01T19:00:00.000Z";
const HOLD_TTL_MS = 3_600_000;

/** A core on a fresh data dir with one schedule of `venue`, `taken` of its seats sold (paid rows written before start). */
async function coreWithSoldSchedule(
  venue: NamedVenue,
  sold: Uint8Array,
  env: Record<string, string>,
): Promise<{ harness: InProcess; scheduleId: number }> {
  const first = await startCore(env);
  const concert = await first.ok(
    "admin.concerts.create",
    { title: "Venues", venues: [venue], schedules: [{ startsAt: STARTS_AT, venue: venue.name }] },
    { admin: true },
  );
  const scheduleId = concert.schedules[0].id as number;
  await first.close();
  // Sold seats as paid reservations, written while the server is down; a restart reads them into
  // the seat map (status sold), as it would after a sale.
  const layout = layoutOf(venue);
  const db = new Database(join(first.dataDir, "tickets.db"));
  const insert = db.prepare(
    `INSERT INTO reservations (user_id, schedule_id, seat_no, price, status, expires_at, created_at, payment_id)
     VALUES (?, ?, ?, ?, 'paid', 0, 0, NULL)`,
  );
  db.transaction(() => {
    for (let i = 0; i < sold.length; i++) {
      if (sold[i] === 1) insert.run(`sold-${i >> 2}`, scheduleId, i + 1, layout.categories[layout.category[i]!]!.price);
    }
  })();
  db.close();
  return { harness: await startCore(env, first.dataDir), scheduleId };
}

/**
 * Splits a taken pattern into sold seats and `heldShare` of all seats held: groups of 1..4
 * adjacent taken seats of one row (a fan's hold), each group one holder's.
 */
function soldAndHeld(
  layout: SeatLayout,
  taken: Uint8Array,
  heldShare: number,
  seed: number,
): { sold: Uint8Array; held: number[][] } {
  const next = seededRandom(seed);
  const sold = taken.slice();
  const rowEnd = new Uint32Array(taken.length);
  for (const section of layout.sections) {
    for (const row of section.rows) rowEnd.fill(row.first - 1 + row.count, row.first - 1, row.first - 1 + row.count);
  }
  const held: number[][] = [];
  const want = Math.round(heldShare * taken.length);
  for (let count = 0; count < want; ) {
    const i = Math.floor(next() * sold.length);
    if (sold[i] !== 1) continue;
    const size = Math.min(1 + Math.floor(next() * 4), want - count);
    const group: number[] = [];
    for (let j = i; j < rowEnd[i]! && group.length < size && sold[j] === 1; j++) {
      sold[j] = 0;
      group.push(j + 1);
    }
    held.push(group);
    count += group.length;
  }
  return { sold, held };
}

const toMs = (ns: bigint) => Number(ns) / 1e6;

export async function bestServerTime(ctx: BenchContext): Promise<ScenarioResult> {
  const venue = bigVenue();
  const layout = layoutOf(venue);
  const taken = takenPattern(layout, 0.9);
  const { sold, held } = soldAndHeld(layout, taken, 0.04, 91);
  const env = benchEnv({ HOLD_TTL_MS: String(HOLD_TTL_MS), MAX_HOLDS_PER_USER: "4" });
  const { harness, scheduleId } = await coreWithSoldSchedule(venue, sold, env);
  try {
    const { reservations, catalog } = harness.core.actors;
    const schedule = catalog.schedule(scheduleId);
    // The held 4 %: scattered singles held by fill users (4 each), as fans holding seats are.
    // `pool`: who holds what; a release or expiry frees all of one holder's seats at once.
    const pool = new Map<string, number[]>();
    const holders: string[] = [];
    const keep = (user: string, reservationId: number) => {
      const mine = pool.get(user);
      if (mine) mine.push(reservationId);
      else {
        pool.set(user, [reservationId]);
        holders.push(user);
      }
    };
    await Promise.all(
      held.flatMap((group, i) =>
        group.map(async (seatNo) => {
          const view = await reservations.hold(`fill-${i}`, scheduleId, seatNo, HOLD_TTL_MS, Date.now());
          keep(`fill-${i}`, view.reservationId);
        }),
      ),
    );
    const takenBefore = schedule.totalSeats - schedule.availableSeats;
    const next = seededRandom(92);
    const releases: Promise<unknown>[] = [];
    /** Frees at least `n` held seats, whole holders at random (releases, expiries): the hall stays about 90 % taken. */
    const churn = (n: number) => {
      for (let freed = 0; freed < n && holders.length > 0; ) {
        const at = Math.floor(next() * holders.length);
        const user = holders[at]!;
        holders[at] = holders[holders.length - 1]!;
        holders.pop();
        for (const reservationId of pool.get(user)!) {
          releases.push(reservations.release(user, reservationId, Date.now()));
          freed++;
        }
        pool.delete(user);
      }
    };

    type Variant = { name: string; count: number; category?: string; accessible?: boolean; calls: number };
    const calls = ctx.quick ? 1000 : 3000;
    // The category first, while its blocks last; then any category; then accessible pairs, which
    // at 90 % taken are none: every call scans the whole hall (the worst case).
    const variants: Variant[] = [
      { name: "count4.category3", count: 4, category: "Category 3", calls: calls / 2 },
      { name: "count4", count: 4, calls },
      { name: "count2.accessible", count: 2, accessible: true, calls: calls / 2 },
    ];
    const figures: Record<string, number | string> = {};
    let user = 0;
    let mismatches = 0;
    let main: ReturnType<typeof summarize> | undefined;
    let worstDecisionP99 = 0;
    for (const variant of variants) {
      const pure = createHistogram();
      const decision = createHistogram();
      const op = createHistogram();
      let found = 0;
      const filter = {
        ...(variant.category !== undefined ? { category: schedule.categoryIndex(variant.category)! } : {}),
        ...(variant.accessible ? { accessible: true } : {}),
      };
      // 200 warm-up calls (JIT), then the timed ones.
      for (let call = -200; call < variant.calls; call++) {
        const t0 = process.hrtime.bigint();
        const expected = schedule.bestBlock(variant.count, filter);
        const t1 = process.hrtime.bigint();
        const holding = reservations.holdBest(
          `rush-${user++}`,
          scheduleId,
          {
            count: variant.count,
            ...(variant.category !== undefined ? { category: variant.category } : {}),
            ...(variant.accessible ? { accessible: true } : {}),
          },
          HOLD_TTL_MS,
          Date.now(),
        );
        const t2 = process.hrtime.bigint();
        let views: Awaited<typeof holding> | undefined;
        try {
          views = await holding;
        } catch (error) {
          if ((error as { code?: string }).code !== "SEAT_UNAVAILABLE") throw error;
        }
        const t3 = process.hrtime.bigint();
        if (call < 0) {
          if (views) churn(views.length);
          continue;
        }
        recordMs(pure, toMs(t1 - t0));
        recordMs(decision, toMs(t2 - t1));
        recordMs(op, toMs(t3 - t1));
        if (views === undefined) {
          if (expected !== undefined) mismatches++;
          continue;
        }
        found++;
        if (expected === undefined || views.some((v, k) => v.seatNo !== expected[k])) mismatches++;
        for (const v of views) keep(`rush-${user - 1}`, v.reservationId);
        churn(views.length);
        if (releases.length > 400) await Promise.all(releases.splice(0));
      }
      await Promise.all(releases.splice(0));
      const p = summarize(pure);
      const d = summarize(decision);
      const o = summarize(op);
      if (variant.name === "count4") main = d;
      worstDecisionP99 = Math.max(worstDecisionP99, d.p99);
      const prefix = `${variant.name}.`;
      Object.assign(figures, {
        [`${prefix}calls`]: variant.calls,
        [`${prefix}found`]: found,
        [`${prefix}pureP50Ms`]: p.p50,
        [`${prefix}pureP99Ms`]: p.p99,
        [`${prefix}pureMaxMs`]: p.max,
        [`${prefix}decisionP50Ms`]: d.p50,
        [`${prefix}decisionP99Ms`]: d.p99,
        [`${prefix}decisionMaxMs`]: d.max,
        [`${prefix}withCommitP50Ms`]: o.p50,
        [`${prefix}withCommitP99Ms`]: o.p99,
        [`${prefix}withCommitMaxMs`]: o.max,
      });
    }

    // The whole request through the dispatcher (JWT, gate, zod, the op, its commit), fans with a
    // queue token each (checked in beforehand, unmeasured).
    const dispatched = createHistogram();
    const dispatchCalls = ctx.quick ? 300 : 1000;
    let dispatchFound = 0;
    const tokens: { user: string; token: string }[] = [];
    for (let i = 0; i < dispatchCalls + 100; i++) {
      const name = `http-${i}`;
      tokens.push({ user: name, token: await harness.activeToken(name) });
    }
    for (const [i, { user: name, token }] of tokens.entries()) {
      const started = performance.now();
      const reply = await harness.call(
        "reservations.best",
        { scheduleId, count: 4 },
        { user: name, queueToken: token },
      );
      const ms = performance.now() - started;
      if (reply.status !== 201 && reply.status !== 409) {
        throw new Error(`reservations.best: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
      if (i < 100) continue;
      recordMs(dispatched, ms);
      if (reply.status === 409) continue;
      dispatchFound++;
      const body = reply.body as { reservations: { reservationId: number }[] };
      for (const r of body.reservations) keep(name, r.reservationId);
      churn(body.reservations.length);
    }
    await Promise.all(releases.splice(0));
    const whole = summarize(dispatched);
    Object.assign(figures, {
      seats: schedule.totalSeats,
      takenShareBefore: Number((takenBefore / schedule.totalSeats).toFixed(4)),
      takenShareAfter: Number(((schedule.totalSeats - schedule.availableSeats) / schedule.totalSeats).toFixed(4)),
      soldSeats: schedule.soldSeats,
      rows: layout.sections.reduce((n, s) => n + s.rows.length, 0),
      pureVsOpMismatches: mismatches,
      "dispatch.count4.calls": dispatchCalls,
      "dispatch.count4.found": dispatchFound,
      "dispatch.count4.p50Ms": whole.p50,
      "dispatch.count4.p99Ms": whole.p99,
      "dispatch.count4.maxMs": whole.max,
    });
    return {
      id: "l.best.server",
      title: "(l) reservations.best server time, 100,000 seats 90 % taken",
      latency: main,
      figures,
      targets: {
        "decision p99, count 4 (ms)": { measured: main!.p99, target: "< 1", met: main!.p99 < 1 },
        "decision p99, worst variant (ms)": { measured: worstDecisionP99, target: "< 1", met: worstDecisionP99 < 1 },
      },
    };
  } finally {
    await harness.dispose();
  }
}

export async function fansAtOnce(ctx: BenchContext): Promise<ScenarioResult[]> {
  const fans = 1000;
  const venue = stadium();
  const layout = layoutOf(venue);
  // best, singles, singles, best (twice without --quick): each kind as often early as late in
  // the run, each round on a fresh schedule.
  const abba: ("best" | "singles")[] = ["best", "singles", "singles", "best"];
  const order = ctx.quick ? abba : [...abba, ...abba];
  const server = await bookingServer({ MAX_HOLDS_PER_USER: "4", HOLD_TTL_MS: String(HOLD_TTL_MS) });
  try {
    const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
    const concert = await admin.call("admin.concerts.create", {
      title: "Stadium",
      venues: [venue],
      schedules: Array.from({ length: order.length }, () => ({ startsAt: STARTS_AT, venue: venue.name })),
    });
    const scheduleIds = concert.schedules.map((s) => s.id);
    const worker = forkWorker("venueFans.js", { url: server.wsUrl, secret: SECRET, userPrefix: "fan-", fans });
    await worker.next("ready");
    const pid = server.child.pid!;
    type Run = { kind: "best" | "singles"; result: FansPhaseResult; serverCpuMs: number };
    const runs: Run[] = [];
    for (const [k, kind] of order.entries()) {
      const scheduleId = scheduleIds[k]!;
      const phase: FansPhase =
        kind === "best"
          ? { type: "phase", kind, scheduleId, count: 4 }
          : {
              type: "phase",
              kind,
              scheduleId,
              // Fan i's 4 seats: 4i+1..4i+4, one block each, so no two fans want the same seat.
              seats: Array.from({ length: fans }, (_, i) => [1, 2, 3, 4].map((j) => 4 * i + j)),
            };
      const cpuBefore = cpuSeconds(pid);
      worker.send(phase);
      const result = (await worker.next("phase")) as unknown as FansPhaseResult;
      runs.push({ kind, result, serverCpuMs: (cpuSeconds(pid) - cpuBefore) * 1000 });
      // The fans' holds are released between phases (MAX_HOLDS_PER_USER is 4), unmeasured.
      const dbAudit = await audit(server, []);
      if (!dbAudit.ok) throw new Error(`database audit after ${kind}: ${dbAudit.problems.join("; ")}`);
      worker.send({ type: "release" });
      const released = await worker.next("released");
      if (released.failed !== 0) throw new Error(`${released.failed} releases failed`);
    }
    worker.send({ type: "stop" });
    const metrics = await scrape(server.url);
    const finalAudit = await audit(server, [], server.url);

    const results: ScenarioResult[] = [];
    for (const kind of ["best", "singles"] as const) {
      const mine = runs.filter((r) => r.kind === kind);
      const op = summarize(mergeHistograms(mine.map((r) => r.result.histograms.op!)));
      const fan = summarize(mergeHistograms(mine.map((r) => r.result.histograms.fan!)));
      const seats = mine.reduce((n, r) => n + r.result.got.reduce((m, g) => m + g.length, 0), 0);
      const fansDone = mine.reduce((n, r) => n + r.result.got.filter((g) => g.length === 4).length, 0);
      const seconds = mine.reduce((t, r) => t + r.result.elapsedMs, 0) / 1000;
      const errors: Record<string, number> = {};
      for (const r of mine)
        for (const [code, n] of Object.entries(r.result.errors))
          errors[`err.${code}`] = (errors[`err.${code}`] ?? 0) + n;
      const server = opLatency(metrics, kind === "best" ? "reservations.best" : "reservations.create");
      const figures: Record<string, number | string> = {
        fans,
        rounds: mine.length,
        seatsHeld: seats,
        fansWith4Seats: fansDone,
        seatsPerSecond: Math.round(seats / seconds),
        fansServedPerSecond: Math.round(fansDone / seconds),
        roundsMs: mine.map((r) => r.result.elapsedMs.toFixed(0)).join(" / "),
        fanP50Ms: fan.p50,
        fanP99Ms: fan.p99,
        serverCpuMsPerRound: mine.map((r) => r.serverCpuMs.toFixed(0)).join(" / "),
        serverCpuUsPerSeat: Math.round((mine.reduce((t, r) => t + r.serverCpuMs, 0) * 1000) / seats),
        serverOpP50le: server.p50,
        serverOpP99le: server.p99,
        generatorCpuCores: Math.max(...mine.map((r) => r.result.generatorCpuCores)),
        generatorLagP99Ms: Math.max(...mine.map((r) => r.result.generatorLagP99Ms)),
        ...errors,
      };
      if (kind === "best") {
        const blocks = mine.flatMap((r) => r.result.got.filter((g) => g.length > 0));
        // Each round is its own schedule: overlaps are looked for within a round.
        const audits = mine.map((r) =>
          auditBlocks(
            layout,
            r.result.got.filter((g) => g.length > 0),
            4,
          ),
        );
        // The labels the server gave agree: one section, one row, k consecutive.
        let labelProblems = 0;
        for (const r of mine) {
          r.result.labels.forEach((labels, i) => {
            if (labels.length === 0) return;
            const rows = new Set(labels.map((l, j) => `${r.result.sections[i]![j]}/${l.slice(0, l.lastIndexOf("-"))}`));
            const ks = labels.map((l) => Number(l.slice(l.lastIndexOf("-") + 1)));
            if (rows.size !== 1 || ks.some((k, j) => j > 0 && k !== ks[j - 1]! + 1)) labelProblems++;
          });
        }
        const problems = [
          ...audits.flatMap((a, i) => a.problems.map((p) => `round ${i + 1}: ${p}`)),
          ...(labelProblems > 0 ? [`${labelProblems} blocks whose labels are not k consecutive seats of one row`] : []),
          ...finalAudit.problems,
        ];
        figures.blocks = blocks.length;
        figures.blocksPerSecond = Math.round(blocks.length / seconds);
        results.push({
          id: "l.best.fans",
          title: "(l) 1,000 fans ask for the best 4 at once (WS)",
          throughput: blocks.length / seconds,
          unit: "blocks/s",
          latency: op,
          figures,
          audit: {
            ok: problems.length === 0,
            problems,
            checked: { blocks: blocks.length, ...finalAudit.checked },
          },
        });
      } else {
        results.push({
          id: "l.holds.fans",
          title: "(l) the same 1,000 fans hold 4 single seats each (WS)",
          throughput: seats / seconds,
          unit: "seats/s",
          latency: op,
          figures,
        });
      }
    }
    return results;
  } finally {
    await server.stop();
    server.cleanup();
  }
}

export async function snapshotBytes(ctx: BenchContext): Promise<ScenarioResult> {
  const venue = stadium();
  const layout = layoutOf(venue);
  // An on-sale well under way: 60 % sold, 5 % held (the full list's statuses vary with it).
  const { sold, held } = soldAndHeld(layout, takenPattern(layout, 0.65, 93), 0.05, 94);
  const { harness, scheduleId } = await coreWithSoldSchedule(
    venue,
    sold,
    benchEnv({ HOLD_TTL_MS: String(HOLD_TTL_MS), MAX_HOLDS_PER_USER: "4" }),
  );
  try {
    const { reservations, catalog } = harness.core.actors;
    const schedule = catalog.schedule(scheduleId);
    await Promise.all(
      held.flatMap((group, i) =>
        group.map((seatNo) => reservations.hold(`fill-${i}`, scheduleId, seatNo, HOLD_TTL_MS, Date.now())),
      ),
    );
    const packr = new Packr({ useRecords: false });
    const timed = <T>(run: () => T): [T, number] => {
      const started = process.hrtime.bigint();
      const value = run();
      return [value, toMs(process.hrtime.bigint() - started)];
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const rounds = ctx.quick ? 5 : 15;
    // One seat held or freed again before each build (straight on the schedule actor; the store
    // never hears of it): each build starts from an invalidated cache, as after a change.
    const flipSeat = schedule.bestBlock(1, {})![0]!;
    const change = () => {
      if (schedule.isAvailable(flipSeat)) schedule.hold(flipSeat);
      else schedule.free(flipSeat);
    };
    // Every seat's place (section, row, label, category), built at the first view or first
    // reservations.best answer of a schedule with a venue, then kept.
    const [, placesMs] = timed(() => schedule.placeOf(1));
    const [, fullColdMs] = timed(() => schedule.view());
    const fullMs: number[] = [];
    const compactMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      change();
      fullMs.push(timed(() => schedule.view())[1]);
      compactMs.push(timed(() => schedule.compactView())[1]);
    }
    const full = schedule.view();
    const compact = schedule.compactView();
    // The layout document: built once per layout object and cached; timed on fresh objects.
    const fresh = Array.from({ length: rounds }, () => layoutOf(venue));
    const layoutBuildMs = median(fresh.map((copy) => timed(() => layoutDocument(copy))[1]));
    const { etag, document } = schedule.layoutDocument();
    const layoutBody = { etag, layout: document };

    const sizes = (body: unknown) => {
      const pack = timed(() => packr.pack(body));
      const json = timed(() => JSON.stringify(body));
      return { msgpack: pack[0].length, json: Buffer.byteLength(json[0]), msgpackMs: pack[1], jsonMs: json[1] };
    };
    const encodeTimes = (body: unknown) => ({
      msgpackMs: median(Array.from({ length: rounds }, () => timed(() => packr.pack(body))[1])),
      jsonMs: median(Array.from({ length: rounds }, () => timed(() => JSON.stringify(body))[1])),
    });
    const fullSize = sizes(full);
    const compactSize = sizes(compact);
    const layoutSize = sizes(layoutBody);
    const fullEnc = encodeTimes(full);
    const compactEnc = encodeTimes(compact);
    const layoutEnc = encodeTimes(layoutBody);
    // The reply frames as the WS codec writes them (src/ws/codec.ts), data encoded once per body.
    const frame = (body: unknown) => encodeReply(1, body, true).length;
    // What the statuses would cost as MessagePack bin instead of a base64 string.
    const statusesBin = Buffer.from(compact.statuses, "base64");
    const compactBin = packr.pack({ ...compact, statuses: statusesBin }).length;
    // The ops through the dispatcher (JWT, gate, zod), bodies cached after the first call.
    const token = await harness.activeToken("reader");
    const opMs = async (name: string, args: Record<string, unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        change();
        const started = performance.now();
        const reply = await harness.call(name, args, { user: "reader", queueToken: token });
        times.push(performance.now() - started);
        if (reply.status !== 200) throw new Error(`${name}: ${reply.status}`);
      }
      return median(times);
    };
    const fullOpMs = await opMs("seats.list", { scheduleId });
    const compactOpMs = await opMs("seats.list", { scheduleId, compact: true });
    const layoutOpMs = await opMs("seats.layout", { scheduleId });
    const r1 = (n: number) => Number(n.toFixed(1));
    const r3 = (n: number) => Number(n.toFixed(3));
    const compactPlusLayout = compactSize.msgpack + layoutSize.msgpack;
    return {
      id: "l.snapshot",
      title: "(l) seat-map snapshot bytes and build CPU, 50,000 seats",
      figures: {
        seats: schedule.totalSeats,
        soldSeats: schedule.soldSeats,
        heldSeats: schedule.totalSeats - schedule.availableSeats - schedule.soldSeats,
        "full.msgpackBytes": fullSize.msgpack,
        "full.jsonBytes": fullSize.json,
        "full.frameBytes": frame(full),
        "compact.msgpackBytes": compactSize.msgpack,
        "compact.jsonBytes": compactSize.json,
        "compact.frameBytes": frame(compact),
        "compact.msgpackBytesIfStatusesBin": compactBin,
        "layout.msgpackBytes": layoutSize.msgpack,
        "layout.jsonBytes": layoutSize.json,
        "layout.frameBytes": frame(layoutBody),
        "compactPlusLayout.msgpackBytes": compactPlusLayout,
        "compactPlusLayout.jsonBytes": compactSize.json + layoutSize.json,
        "places.buildMs": r1(placesMs),
        "full.buildFirstMs": r1(fullColdMs),
        "full.buildMs": r1(median(fullMs)),
        "full.msgpackMs": r1(fullEnc.msgpackMs),
        "full.jsonMs": r1(fullEnc.jsonMs),
        "full.opMs": r1(fullOpMs),
        "compact.buildMs": r3(median(compactMs)),
        "compact.msgpackMs": r3(compactEnc.msgpackMs),
        "compact.jsonMs": r3(compactEnc.jsonMs),
        "compact.opMs": r3(compactOpMs),
        "layout.buildMs": r1(layoutBuildMs),
        "layout.msgpackMs": r3(layoutEnc.msgpackMs),
        "layout.jsonMs": r3(layoutEnc.jsonMs),
        "layout.opMs": r3(layoutOpMs),
      },
      targets: {
        "compact snapshot, MessagePack (KB)": {
          measured: compactSize.msgpack / 1000,
          target: "< 100",
          met: compactSize.msgpack < 100_000,
        },
        "compact + layout, MessagePack (KB)": {
          measured: compactPlusLayout / 1000,
          target: "< 100 (reported)",
          met: compactPlusLayout < 100_000,
        },
      },
    };
  } finally {
    await harness.dispose();
  }
}

export async function venues(ctx: BenchContext): Promise<ScenarioResult[]> {
  return [await bestServerTime(ctx), ...(await fansAtOnce(ctx)), await snapshotBytes(ctx)];
}
