// Which uWebSockets.js build the server runs on (src/uws.ts): upstream's wherever it loads, else
// the Node 20 build's native binary with upstream's reason, and never the Node 20 package's
// JavaScript fallback.
import { describe, expect, it } from "vitest";
import { chooseUws, type Uws, uwsChoice } from "../../src/uws.js";

const native = { App: () => ({}) } as unknown as Uws;
const upstream = { App: () => ({}) } as unknown as Uws;
const shim = { App: () => ({}) } as unknown as Uws;
const glibc = new Error(
  "This version of uWS.js (v20.57.0) supports only Node.js versions 20, 22, 24 and 25\n\nError: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found",
);
const missing = new Error("Cannot find module '/x/binaries/uws_linux_x64_137.node'");
const refuseUpstream = () => {
  throw glibc;
};

describe("the uWebSockets.js build", () => {
  it("is upstream's wherever it loads, even where the Node 20 build loads too", () => {
    const choice = chooseUws({ upstream: () => upstream, node20: () => native, node20Native: () => native });
    expect(choice).toEqual({ uws: upstream, build: "upstream v20.57.0" });
  });

  it("is the Node 20 build's native binary where upstream's does not load (glibc before 2.38), with the reason", () => {
    const choice = chooseUws({ upstream: refuseUpstream, node20: () => native, node20Native: () => native });
    expect(choice.build).toBe("node20 v20.30.0");
    expect(choice.uws).toBe(native);
    expect(choice.upstreamRefused).toMatch(/supports only Node.js .*GLIBC_2.38' not found/);
  });

  it("is refused when the Node 20 package fell back to JavaScript, or nothing native loads", () => {
    expect(() => chooseUws({ upstream: refuseUpstream, node20: () => shim, node20Native: () => native })).toThrow(
      /fell back to its JavaScript implementation/,
    );
    expect(() =>
      chooseUws({
        upstream: refuseUpstream,
        node20: () => shim,
        node20Native: () => {
          throw missing;
        },
      }),
    ).toThrow(/no uWebSockets.js build loads here: upstream v20.57.0 \(.*GLIBC_2.38.*\); .*uws_linux_x64_137/);
  });

  it("on this machine: upstream's where the C library allows it, else the Node 20 build (only under Node 20)", () => {
    const { build, upstreamRefused } = uwsChoice();
    if (build === "upstream v20.57.0") expect(upstreamRefused).toBeUndefined();
    else {
      expect(Number(process.versions.node.split(".")[0])).toBe(20);
      expect(upstreamRefused).toMatch(/GLIBC/);
    }
  });
});
