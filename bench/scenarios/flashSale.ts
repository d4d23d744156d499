// (c) Flash sale: 10,000 WebSocket clients check in within a second, are admitted at the
// configured rate, race for 5,000 seats and pay.
import { audit } from "../lib/audit.js";
import { type BenchContext, bookingServer, createCatalog, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuSeconds, errorFigures, forkLoad } from "../lib/processes.js";
import { gauge, opLatency, scrape } from "../lib/serverMetrics.js";

/**
 * `activeMax` is the waiting room's active set (QUEUE_ACTIVE_MAX): how many fans may book at
 * once. Each admitted fan keeps one request in flight, so the booking path's latency grows with
 * it (Little's law) while sales per second are bound by the server either way.
 */
export async function flashSale(ctx: BenchContext, activeMax: number): Promise<ScenarioResult> {
  const clients = ctx.quick ? 4000 : 10_000;
  const seats = clients / 2;
  const server = await bookingServer({ QUEUE_ACTIVE_MAX: String(activeMax), QUEUE_TICK_MS: "100" });
  try {
    const catalog = await createCatalog(server, 1, seats);
    const half = clients / 2;
    let sold = 0;
    let onSoldOut: () => void = () => {};
    const soldOut = new Promise<void>((done) => {
      onSoldOut = done;
    });
    const onSale = () => {
      if (++sold >= seats) onSoldOut();
    };
    const loads = [0, 1].map((index) =>
      forkLoad(
        {
          mode: "flash",
          url: server.wsUrl,
          secret: SECRET,
          userPrefix: `fan${index}-`,
          connections: half,
          durationMs: 120_000,
          concertId: catalog.concertId,
          scheduleIds: catalog.bigScheduleIds,
          seatsPerSchedule: seats,
        },
        onSale,
      ),
    );
    await Promise.all(loads.map((load) => load.ready));
    // prom-client resets its event-loop lag figures at each scrape: the final one covers the sale.
    await scrape(server.url);
    const started = performance.now();
    const cpuBefore = cpuSeconds(server.child.pid!);
    const running = Promise.all(loads.map((load) => load.go()));
    // Sold out is the end of the sale: tell the fans still in line to go home. The generators
    // report each sale, so the server is not scraped (and disturbed) while the sale runs.
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([soldOut, running, new Promise((wait) => (giveUp = setTimeout(wait, 125_000)))]);
    clearTimeout(giveUp);
    const soldOutAfter = sold >= seats ? (performance.now() - started) / 1000 : Number.NaN;
    for (const load of loads) load.release();
    const results = await running;
    const elapsed = (performance.now() - started) / 1000;
    const serverCpuCores = (cpuSeconds(server.child.pid!) - cpuBefore) / elapsed;
    const finalMetrics = await scrape(server.url);
    const serverHold = opLatency(finalMetrics, "reservations.create");
    const hold = summarize(mergeHistograms(results.map((r) => r.histograms.hold!).filter(Boolean)));
    const paymentIds = results.flatMap((r) => r.paymentIds);
    const sum = (key: string) => results.reduce((total, r) => total + (r.extra[key] ?? 0), 0);
    return {
      id: activeMax === 1000 ? "c.flash" : `c.flash.${activeMax}`,
      title: `(c) Flash sale: ${clients} clients, ${seats} seats, ${activeMax} active`,
      throughput: paymentIds.length / soldOutAfter,
      unit: "sales/s",
      latency: hold,
      figures: {
        clients,
        seats,
        sold: paymentIds.length,
        admitted: sum("admitted"),
        gaveUp: sum("gaveUp"),
        seatUnavailable: results.reduce((t, r) => t + (r.errors.SEAT_UNAVAILABLE ?? 0), 0),
        ...errorFigures(results),
        soldOutSeconds: Number(soldOutAfter.toFixed(1)),
        serverHoldP50le: serverHold.p50,
        serverHoldP99le: serverHold.p99,
        // Scraped just before and after the sale (not during it, to leave it undisturbed).
        eventLoopLagMaxMs: Math.round(gauge(finalMetrics, "ticketing_nodejs_eventloop_lag_max_seconds") * 1000),
        serverCpuCores: Number(serverCpuCores.toFixed(2)),
        generatorCpuCores: Number(sum("generatorCpuCores").toFixed(2)),
        generatorLagP99Ms: Math.max(...results.map((r) => r.extra.generatorLagP99Ms ?? 0)),
        seconds: Number(elapsed.toFixed(1)),
      },
      audit: await audit(server, paymentIds, server.url),
      targets: { "p99 hold latency (ms)": { measured: hold.p99, target: "< 50", met: hold.p99 < 50 } },
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}
