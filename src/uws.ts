// Loads uWebSockets.js and refuses to run on its slow pure-JS fallback.

import uWS from "uWebSockets.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Throws unless the native uWS binary for this platform and Node ABI is the module in use. */
export function assertNativeUws(): void {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("uWebSockets.js/package.json"));
  const binary = join(
    packageDir,
    "binaries",
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  let native: unknown;
  try {
    native = require(binary);
  } catch (error) {
    throw new Error(`the native uWebSockets.js binary did not load (${binary}): ${(error as Error).message}`);
  }
  if (native !== (uWS as unknown) && native !== (uWS as unknown as { default?: unknown }).default) {
    throw new Error("uWebSockets.js fell back to its JavaScript implementation; refusing to start");
  }
}

export { uWS };
