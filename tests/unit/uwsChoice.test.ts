// Which uWebSockets.js build the server runs on (src/uws.ts): the upstream one when it loads, else
// the Node 20 build with the reason, and never the Node 20 package's JavaScript fallback.
import { describe, expect, it } from "vitest";
import { chooseUws, type Uws, uwsChoice } from "../../src/uws.js";

const native = { App: () => ({}) } as unknown as Uws;
const shim = { App: () => ({}) } as unknown as Uws;
const glibc = new Error(
  "This version of uWS.js (v20.57.0) supports only Node.js versions 20, 22, 24 and 25\n\nError: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found",
);

describe("the uWebSockets.js build", () => {
  it("is upstream's when its binary loads", () => {
    const choice = chooseUws({ upstream: () => native, node20: () => shim, node20Native: () => shim });
    expect(choice).toEqual({ uws: native, build: "upstream v20.57.0" });
  });

  it("is the Node 20 build's native binary otherwise, with upstream's reason", () => {
    const choice = chooseUws({
      upstream: () => {
        throw glibc;
      },
      node20: () => native,
      node20Native: () => native,
    });
    expect(choice.build).toBe("node20 v20.30.0");
    expect(choice.uws).toBe(native);
    expect(choice.upstreamRefused).toContain("GLIBC_2.38");
  });

  it("is refused when the Node 20 package fell back to JavaScript, or nothing native loads", () => {
    const upstream = () => {
      throw glibc;
    };
    expect(() => chooseUws({ upstream, node20: () => shim, node20Native: () => native })).toThrow(
      /fell back to its JavaScript implementation/,
    );
    expect(() =>
      chooseUws({
        upstream,
        node20: () => shim,
        node20Native: () => {
          throw new Error("invalid ELF header");
        },
      }),
    ).toThrow(/no uWebSockets.js build loads here: .*GLIBC_2.38.*invalid ELF header/);
  });

  it("on this machine: upstream on glibc 2.38 or later, the Node 20 build below", () => {
    const glibcVersion = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header
      .glibcVersionRuntime;
    const [major = 0, minor = 0] = (glibcVersion ?? "0.0").split(".").map(Number);
    const newEnough = major > 2 || (major === 2 && minor >= 38);
    expect(uwsChoice().build).toBe(newEnough ? "upstream v20.57.0" : "node20 v20.30.0");
  });
});
