// Summarises a V8 .cpuprofile (BENCH_CPU_PROF): self and total time per function, and self time
// per package or source folder. `node dist/bench/profileSummary.js <file.cpuprofile> [top]`
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a package, a source folder, or V8's own pseudo-frames. */
function areaOf(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return url;
  const own = /\/dist\/((?:src|machines)\/(?:[^/]+\/)?)/.exec(url);
  return own ? own[1]! : url;
}

function main(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const key = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|dist)\//, "")}:${lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  let idle = 0;
  // Total time: a node's subtree, counted once per function along each path (recursion-safe).
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    let sum = selfUs.get(node.id) ?? 0;
    const name = key(node);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    self.set(name, (self.get(name) ?? 0) + sum);
    areas.set(area, (areas.get(area) ?? 0) + sum);
    if (node.callFrame.functionName === "(idle)") idle += sum;
    all += sum;
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const child of node.children ?? []) sum += walk(byId.get(child)!, onPath);
    if (fresh) {
      onPath.delete(name);
      total.set(name, (total.get(name) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.nodes[0]!, new Set());
  const busy = all - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const list = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      if (name.startsWith("(idle)")) continue;
      console.log(`${ms(us)} ${pct(us)}  ${name}`);
    }
  };
  console.log(`${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of busy)`);
  list("self time by area", areas, 30);
  list("self time by function", self, top);
  list("total time by function", total, top);
}

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error("usage: node dist/bench/profileSummary.js <file.cpuprofile> [top]");
  process.exit(2);
}
main(file, Number(top ?? 40));
