// Loads the newest uWebSockets.js build that works on this system, says which and why, and never
// runs on the slow JavaScript fallback (issue 17). Two builds are installed, tried in this order:
// - upstream v20.57.0 (npm `@btc-vision/uwebsockets.js`: upstream's own binaries for Node 20, 22,
//   24 and 25, glibc 2.38 or later, e.g. Debian 13). It throws when its binary does not load, so
//   there is no fallback to fear;
// - v20.30.0 for Node 16 to 20 (npm `@trufflesuite/uws-js-unofficial`, installed as
//   `uWebSockets.js`), kept only for older systems such as Debian 12 (glibc 2.36), where upstream's
//   binaries do not load. That package quietly falls back to a JavaScript shim when its binary
//   fails, so its native binary is loaded directly and must be the module in use.
// The whole suite passes on both (on Node 24 in Debian trixie: .ci/node24). Where they differ,
// the server makes the answers the same: the request head limit (MAX_REQUEST_HEAD_BYTES below).
// Both builds' binaries are pinned by SHA-256 (uwsChecksums.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type Uws = typeof import("uWebSockets.js");

/** Which build runs, and why upstream's does not when it does not. */
export interface UwsChoice {
  uws: Uws;
  build: "upstream v20.57.0" | "node20 v20.30.0";
  /** Why the upstream build was not used (its load error, first lines); undefined when it is. */
  upstreamRefused?: string;
}

export interface UwsLoaders {
  upstream: () => Uws;
  node20: () => Uws;
  /** The node20 package's own native binary for this platform and Node ABI (what it should have loaded). */
  node20Native: () => unknown;
}

/**
 * The largest request head (request line and headers) served; a longer one is answered 431 and the
 * connection closed, on either build (API.md §12). Upstream uWS reads its limit from
 * UWS_HTTP_MAX_HEADERS_SIZE once, when its binary loads, and defaults to 4 KiB: too small for a
 * bearer token near its own 8 KiB limit, which must get its 401. Node's own HTTP server allows 16 KiB.
 * On the Node 20 build, http/headLimit.ts applies the same limit.
 */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;

const require = createRequire(import.meta.url);

const SYSTEM_LOADERS: UwsLoaders = {
  upstream: () => {
    // Ours, whatever the environment says: the limit is part of the contract.
    process.env.UWS_HTTP_MAX_HEADERS_SIZE = String(MAX_REQUEST_HEAD_BYTES);
    return require("@btc-vision/uwebsockets.js") as Uws;
  },
  node20: () => require("uWebSockets.js") as Uws,
  node20Native: () => {
    const packageDir = dirname(require.resolve("uWebSockets.js/package.json"));
    const { platform, arch, versions } = process;
    return require(join(packageDir, "binaries", `uws_${platform}_${arch}_${versions.modules}.node`));
  },
};

/** Picks the build (loaders injected by tests); throws when neither loads natively. */
export function chooseUws(loaders: UwsLoaders = SYSTEM_LOADERS): UwsChoice {
  let upstreamRefused: string;
  try {
    return { uws: loaders.upstream(), build: "upstream v20.57.0" };
  } catch (error) {
    upstreamRefused = firstLines((error as Error).message);
  }
  let native: unknown;
  try {
    native = loaders.node20Native();
  } catch (error) {
    throw new Error(
      `no uWebSockets.js build loads here: upstream v20.57.0 (${upstreamRefused}); the Node 20 build's binary (${firstLines((error as Error).message)})`,
    );
  }
  const uws = loaders.node20();
  if (native !== uws && native !== (uws as unknown as { default?: unknown }).default) {
    throw new Error("uWebSockets.js fell back to its JavaScript implementation; refusing to start");
  }
  return { uws, build: "node20 v20.30.0", upstreamRefused };
}

function firstLines(message: string): string {
  return message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .slice(0, 2)
    .join(" ");
}

let chosen: UwsChoice | undefined;

/** The build in use (chosen once, at the first call). */
export function uwsChoice(): UwsChoice {
  chosen ??= chooseUws();
  return chosen;
}

/** uWebSockets.js as loaded by uwsChoice(). */
export function uws(): Uws {
  return uwsChoice().uws;
}
