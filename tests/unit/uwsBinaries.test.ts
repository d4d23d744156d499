// The installed uWebSockets.js binaries are the ones whose SHA-256 the repository pins
// (src/uwsChecksums.ts): none changed, none missing, none added.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectPath } from "../../src/projectPath.js";
import { UWS_BINARIES } from "../../src/uwsChecksums.js";

describe("uWebSockets.js binaries", () => {
  for (const [pkg, pinned] of Object.entries(UWS_BINARIES)) {
    it(`${pkg}: every installed .node file has its pinned SHA-256`, () => {
      // The upstream package keeps its binaries at its root, the Node 20 one under binaries/.
      const root = projectPath("node_modules", pkg);
      const dir = readdirSync(root).includes("binaries") ? join(root, "binaries") : root;
      const installed = readdirSync(dir).filter((name) => name.endsWith(".node"));
      expect(installed.sort()).toEqual(Object.keys(pinned).sort());
      const actual = Object.fromEntries(
        installed.map((name) => [
          name,
          createHash("sha256")
            .update(readFileSync(join(dir, name)))
            .digest("hex"),
        ]),
      );
      expect(actual).toEqual(pinned);
    });
  }
});
