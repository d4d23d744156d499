// Reads the server's own view from /metrics: op latency (from its histogram buckets) and sales.
export interface ServerLatency {
  count: number;
  /** Upper bounds of the buckets holding the 50th and 99th percentile, in ms. */
  p50: number;
  p99: number;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Server-side latency of `op` (decode to reply), from ticketing_op_seconds buckets. */
export function opLatency(metrics: string, op: string): ServerLatency {
  const buckets: { le: number; count: number }[] = [];
  const pattern = new RegExp(
    `^ticketing_op_seconds_bucket\\{le="([^"]+)",op="${op.replace(/\./g, "\\.")}"\\} (\\d+)`,
    "gm",
  );
  for (const match of metrics.matchAll(pattern)) {
    buckets.push({ le: match[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(match[1]), count: Number(match[2]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const at = (share: number) => (buckets.find((b) => b.count >= share * total)?.le ?? Number.NaN) * 1000;
  return { count: total, p50: at(0.5), p99: at(0.99) };
}

export function gauge(metrics: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics)?.[1]);
}
