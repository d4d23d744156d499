// Paths inside the project, from wherever this module runs: src/ under vitest, dist/src/ once built.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

let root: string | undefined;

/** `segments` joined below the project root (the nearest folder above this file with a package.json). */
export function projectPath(...segments: string[]): string {
  root ??= findRoot(import.meta.dirname);
  return join(root, ...segments);
}

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
