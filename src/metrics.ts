// Prometheus metrics (prom-client): requests by op and code, queue, holds, sales, commit latency.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Actors } from "./actors/index.js";

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "ticketing_requests_total",
    help: "Requests by op (or route) and result code",
    labelNames: ["op", "code"] as const,
    registers: [this.registry],
  });
  private readonly opSeconds = new Histogram({
    name: "ticketing_op_seconds",
    help: "Time from a decoded request to its reply, by op (commit wait included)",
    labelNames: ["op"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: "ticketing_commit_seconds",
    help: "Time to commit one group-commit transaction",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  private readonly commitWrites = new Histogram({
    name: "ticketing_commit_writes",
    help: "Writes shared by one group-commit transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "ticketing_" });
  }

  /**
   * Gauges read from the actors when scraped: a single server's, or (a cluster node) those of
   * every room it owns now, summed, so each node reports its own share.
   */
  watch(actorsNow: Actors | (() => readonly Actors[])): void {
    const all = typeof actorsNow === "function" ? actorsNow : () => [actorsNow];
    const sum = (read: (actors: Actors) => number) => () => all().reduce((total, actors) => total + read(actors), 0);
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge(
      "ticketing_queue_waiting",
      "Tokens waiting in line",
      sum((actors) => actors.rooms.waiting),
    );
    gauge(
      "ticketing_queue_active",
      "Tokens in the active set",
      sum((actors) => actors.rooms.active),
    );
    gauge(
      "ticketing_holds_live",
      "Seats currently held",
      sum((actors) => actors.reservations.liveCount),
    );
    gauge(
      "ticketing_seats_sold",
      "Seats sold",
      sum((actors) => {
        let sold = 0;
        for (const schedule of actors.catalog.allSchedules()) sold += schedule.soldSeats;
        return sold;
      }),
    );
  }

  request(op: string, code: string, seconds: number): void {
    this.requests.inc({ op, code });
    this.opSeconds.observe({ op }, seconds);
  }

  commit(seconds: number, writes: number): void {
    this.commitSeconds.observe(seconds);
    this.commitWrites.observe(writes);
  }
}
