// k.capacity: what each role of a node costs in CPU per unit of work, from the other k scenarios
// (a process's CPU time over a phase divided by the work done in it), and from that the throughput
// one core of its own would carry (1,000,000 µs ÷ µs per unit). On this two-core machine every
// process shares the same cores, so these are what a machine with a core per node (and cores for
// PostgreSQL, NATS and the generators) would have to reach per node, not what this one did. No new
// measurement is made here; BENCHMARKS.md ("Cluster") shows the derivation.
import type { ScenarioResult } from "../lib/context.js";

export function clusterCapacity(results: ScenarioResult[], nodes: number): ScenarioResult {
  const figure = (id: string, name: string) => {
    const value = results.find((r) => r.id === id)?.figures[name];
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  };
  const figures: Record<string, number> = {};
  /** µs per unit, and per core: the units one core of its own carries per second. */
  const unit = (name: string, us: number | undefined) => {
    if (us === undefined) return;
    figures[`${name}.us`] = Number(us.toFixed(1));
    // Below a microsecond the role does not take part (PostgreSQL in seats.list): no rate.
    if (us >= 1) figures[`${name}.perCore`] = Math.round(1e6 / us);
  };
  for (const op of ["list", "pairs"]) {
    unit(`${op}.local.owner`, figure(`k.${op}.owner`, "cpuUsPerOp.owner"));
    unit(`${op}.local.postgres`, figure(`k.${op}.owner`, "cpuUsPerOp.postgres"));
    for (const role of ["receiver", "owner", "nats", "postgres"]) {
      unit(`${op}.routed.${role}`, figure(`k.${op}.routed`, `cpuUsPerOp.${role}`));
    }
  }
  // A node delivers to its own 1/N of the subscribers: its µs per frame it sends is its µs per
  // frame of the whole times N. The node that only delivers (`gateway`) gives the fan-out's cost.
  const perFrame = figure("k.fanout", "cpuUsPerFrame.gateway");
  const frameUs = perFrame === undefined ? undefined : perFrame * nodes;
  unit("fanout.frameSent.gateway", frameUs);
  unit("fanout.frame.nats", figure("k.fanout", "cpuUsPerFrame.nats"));
  // The on-sale: each node's CPU per sale, and the same less what its share of the fan-out cost at
  // the gateway's µs per frame (the booking path alone: check-in, hold, charge, pay, and the owner's
  // side of them).
  const sale = results.find((r) => r.id === "k.onsale");
  const sold = figure("k.onsale", "sold");
  const seconds = figure("k.onsale", "seconds");
  const framesPerNode = figure("k.onsale", "framesPerNode");
  for (const [name, value] of Object.entries(sale?.figures ?? {})) {
    if (!name.startsWith("cpuUsPerSale.") || typeof value !== "number") continue;
    const role = name.slice("cpuUsPerSale.".length);
    unit(`onsale.sale.${role}`, value);
    const isNode = role === "owner" || /^node\d+$/.test(role);
    if (!isNode || !sold || !seconds || framesPerNode === undefined || frameUs === undefined) continue;
    const cores = figure("k.onsale", `cores.${role}`) ?? 0;
    const bookingUs = ((cores * seconds - (framesPerNode * frameUs) / 1e6) / sold) * 1e6;
    unit(`onsale.booking.${role}`, bookingUs);
  }
  return {
    id: "k.capacity",
    title: "(k) CPU per unit of work by role, and what one core of its own would carry",
    figures,
  };
}
