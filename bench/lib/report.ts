// Reporting a run: a table on stdout, a JSON file and an SVG chart under bench/results/.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { ScenarioResult } from "./context.js";

export interface RunReport {
  startedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  /** The server build under test when not this tree's (BENCH_SERVER_MAIN, for before/after pairs). */
  server?: string;
  results: ScenarioResult[];
  ratios: Record<string, { measured: number; target: string; met: boolean }>;
}

export function machine(): RunReport["machine"] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/**
 * Requests a scenario saw refused by a rate limit: `err.RATE_LIMITED` from the WebSocket
 * generators, `status.429` from HTTP ones. The throughput scenarios run with the limits off
 * (LIMITS_OFF), so there any refusal means the scenario measured the limit, not the server.
 */
export function rateLimited(result: ScenarioResult): number {
  const count = (name: string) => Number(result.figures[name] ?? 0);
  return count("err.RATE_LIMITED") + count("status.429");
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "" : n.toLocaleString("en-US", { maximumFractionDigits: digits });

export function printTable(report: RunReport): void {
  const rows = report.results.map((r) => [
    r.id,
    r.title,
    r.throughput === undefined ? "" : `${fmt(r.throughput)} ${r.unit}`,
    fmt(r.latency?.p50, 2),
    fmt(r.latency?.p99, 2),
    r.audit ? (r.audit.ok ? "ok" : `FAILED: ${r.audit.problems.join("; ")}`) : "",
  ]);
  const head = ["id", "scenario", "throughput", "p50 ms", "p99 ms", "audit"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  console.log(`\n${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
  console.log("\nfigures:");
  for (const r of report.results) console.log(`  ${r.id}: ${JSON.stringify(r.figures)}`);
  console.log("\ntargets:");
  const targets = {
    ...report.ratios,
    ...Object.fromEntries(
      report.results.flatMap((r) => Object.entries(r.targets ?? {}).map(([k, v]) => [`${r.id} ${k}`, v])),
    ),
  };
  for (const [name, t] of Object.entries(targets)) {
    console.log(`  ${t.met ? "MET   " : "MISSED"} ${name}: ${fmt(t.measured, 2)} (target ${t.target})`);
  }
}

/** Horizontal bars: throughput relative to the largest, and p50/p99 latency, one row a scenario. */
export function chart(report: RunReport): string {
  const rows = report.results.filter((r) => r.throughput !== undefined || r.latency !== undefined);
  const rowHeight = 34;
  const width = 1040;
  const height = 60 + rows.length * rowHeight;
  const maxThroughput = Math.max(...rows.map((r) => r.throughput ?? 0));
  const maxLatency = Math.max(1, ...rows.map((r) => (Number.isFinite(r.latency?.p99) ? r.latency!.p99 : 0)));
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const bars = rows.map((r, i) => {
    const y = 50 + i * rowHeight;
    // Log scale: the fan-out's frames/s would otherwise flatten every other bar.
    const tw = r.throughput ? (Math.log10(Math.max(1, r.throughput)) / Math.log10(maxThroughput)) * 300 : 0;
    const p50 = Number.isFinite(r.latency?.p50) ? r.latency!.p50 : 0;
    const p99 = Number.isFinite(r.latency?.p99) ? r.latency!.p99 : 0;
    const latency = r.latency
      ? [
          `<rect x="780" y="${y}" width="${((p99 / maxLatency) * 240).toFixed(1)}" height="18" fill="#e3a33b"/>`,
          `<rect x="780" y="${y}" width="${((p50 / maxLatency) * 240).toFixed(1)}" height="18" fill="#b5651d"/>`,
          `<text x="784" y="${y + 30}" font-size="10">p50 ${fmt(p50, 2)} / p99 ${fmt(p99, 2)} ms</text>`,
        ]
      : [];
    return [
      `<text x="8" y="${y + 14}" font-size="12">${esc(r.title)}</text>`,
      `<rect x="330" y="${y}" width="${tw.toFixed(1)}" height="18" fill="#3b6fb6"/>`,
      `<text x="${334 + tw}" y="${y + 14}" font-size="11">${esc(`${fmt(r.throughput)} ${r.unit ?? ""}`)}</text>`,
      ...latency,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<title>Benchmark results: throughput and latency per scenario</title>
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="20" font-size="14" font-weight="bold">Benchmark ${esc(report.startedAt)} (${report.machine.cpus} CPUs, ${esc(report.machine.node)})</text>
<text x="330" y="40" font-size="12">throughput (log-scale bar)</text><text x="780" y="40" font-size="12">latency: p50 (dark) / p99 (light)</text>
${bars.join("\n")}
</svg>`;
}

export function writeReport(report: RunReport, dir: string): { json: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const json = join(dir, `${stamp}${report.quick ? "-quick" : ""}.json`);
  const svg = join(dir, `${stamp}${report.quick ? "-quick" : ""}.svg`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(svg, chart(report));
  writeFileSync(join(dir, "latest.svg"), chart(report));
  return { json, svg };
}
