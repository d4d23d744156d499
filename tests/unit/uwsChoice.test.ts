// Which uWebSockets.js build the server runs on (src/uws.ts): the Node 20 build where its binary
// loads (the suite passes on it), else upstream's with the reason, and never the Node 20 package's
// JavaScript fallback.
import { describe, expect, it } from "vitest";
import { chooseUws, type Uws, uwsChoice } from "../../src/uws.js";

const native = { App: () => ({}) } as unknown as Uws;
const shim = { App: () => ({}) } as unknown as Uws;
const glibc = new Error(
  "This version of uWS.js (v20.57.0) supports only Node.js versions 20, 22, 24 and 25\n\nError: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found",
);

const missing = new Error("Cannot find module '/x/binaries/uws_linux_x64_137.node'");

describe("the uWebSockets.js build", () => {
  it("is the Node 20 build's native binary where it loads", () => {
    const choice = chooseUws({ upstream: () => shim, node20: () => native, node20Native: () => native });
    expect(choice).toEqual({ uws: native, build: "node20 v20.30.0" });
  });

  it("is upstream's otherwise (Node 22 and later), with the reason", () => {
    const choice = chooseUws({
      upstream: () => native,
      node20: () => shim,
      node20Native: () => {
        throw missing;
      },
    });
    expect(choice.build).toBe("upstream v20.57.0");
    expect(choice.uws).toBe(native);
    expect(choice.node20Refused).toContain("uws_linux_x64_137.node");
  });

  it("is refused when the Node 20 package fell back to JavaScript, or nothing native loads", () => {
    expect(() => chooseUws({ upstream: () => native, node20: () => shim, node20Native: () => native })).toThrow(
      /fell back to its JavaScript implementation/,
    );
    expect(() =>
      chooseUws({
        upstream: () => {
          throw glibc;
        },
        node20: () => shim,
        node20Native: () => {
          throw missing;
        },
      }),
    ).toThrow(/no uWebSockets.js build loads here: .*uws_linux_x64_137.*GLIBC_2.38/);
  });

  it("on this machine: the Node 20 build under Node 20, upstream's under later ones", () => {
    const node20 = Number(process.versions.node.split(".")[0]) === 20;
    expect(uwsChoice().build).toBe(node20 ? "node20 v20.30.0" : "upstream v20.57.0");
  });
});
