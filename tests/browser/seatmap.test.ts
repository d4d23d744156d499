// The live seat-map page in real headless Chromium (Debian's chromium via playwright-core): holds and
// sales show up in another browser without reloading, and a visitor waiting in a full queue is let
// in by itself when a slot frees; all of it under the page's strict Content-Security-Policy with no
// violation. A screenshot goes to tests/artifacts/.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConcert } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";
import {
  chromiumAvailable,
  inCi,
  launchChromium,
  mySeat,
  type Observed,
  openPage,
  screenshot,
  seat,
  signIn,
} from "./browser.js";

describe.runIf(chromiumAvailable || inCi)("seat-map page in headless Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  const navigations = new Map<Page, number>();
  const observed: Observed[] = [];

  beforeAll(async () => {
    server = await startServer({
      env: { DEV_LOGIN: "1", QUEUE_ACTIVE_MAX: "2", QUEUE_TICK_MS: "100", MAX_HOLDS_PER_USER: "2" },
    });
    await createConcert(server, [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 2000, price: 50_000 }], "Big Hall");
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  async function visitor(name: string): Promise<Page> {
    const { page, observed: seen } = await openPage(browser, server.url, name);
    observed.push(seen);
    navigations.set(page, 1);
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.set(page, (navigations.get(page) ?? 0) + 1);
    });
    await signIn(page, name);
    return page;
  }

  it("shows holds and sales live across browsers and lets a waiting visitor in without reloading, under the strict CSP with no violation", async () => {
    const started = Date.now();
    const alice = await visitor("alice");
    await expect.poll(() => seat(alice, 2000).count(), { timeout: 10_000 }).toBe(1);
    const renderMs = Date.now() - started;
    const bob = await visitor("bob");
    await seat(bob, 2000).waitFor();
    expect(await seat(bob, 5).getAttribute("aria-label")).toBe("Seat 5, available, 50,000 won");
    // A schedule without a venue is one row of numbered seats wrapping in its box; four-digit
    // numbers fit their buttons.
    expect(await seat(bob, 2000).textContent()).toBe("2000");
    const overflowing = await bob.evaluate(
      () =>
        Array.from((globalThis as any).document.querySelectorAll("#seats button")).filter(
          (b: any) => b.scrollWidth > b.clientWidth,
        ).length,
    );
    expect(overflowing).toBe(0);
    // Its one price is in the legend; there are no accessible places to ask for.
    expect(await bob.locator("#categories li").allTextContents()).toEqual(["standard 50,000 won"]);
    expect(await bob.locator("#best-accessible-field").isVisible()).toBe(false);

    // The queue is full (QUEUE_ACTIVE_MAX=2): carol waits, and sees her place.
    const carol = await visitor("carol");
    await carol.locator("#queue:not([hidden])").waitFor();
    await expect.poll(() => carol.locator("#queue-position").textContent()).toBe("1");

    // Alice holds seat 5; Bob's map turns it held from a push, and his date's free count follows.
    await seat(alice, 5).click();
    await mySeat(alice, 5).waitFor();
    await bob.locator('#seats button[data-seat="5"][data-status="held"]').waitFor();
    expect(await seat(bob, 5).getAttribute("aria-label")).toBe("Seat 5, held by someone else, 50,000 won");
    await expect.poll(() => bob.locator("#schedule option:checked").textContent()).toMatch(/· 1,999 free$/);
    // The hold says which concert and date, in UTC, and counts down.
    expect(await alice.locator("#holds li").textContent()).toMatch(
      /Seat 5 · 50,000 won.*Big Hall, Tue, 1 Jun 2027, 19:00 UTC[0-9]+:[0-9]{2} left · ends [0-9:]{8} UTC/,
    );

    // Paying without money offers to add what is missing; Alice adds more by hand instead, and pays.
    await alice.locator("#pay").click();
    await expect.poll(() => alice.locator("#pay-offer").textContent()).toContain("Add the missing 50,000 won");
    await alice.getByLabel("Add money (won)").fill("60000");
    await alice.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => alice.locator("#balance").textContent()).toBe("60,000 won");
    expect(await alice.locator("#pay-offer").isHidden()).toBe(true);
    await alice.locator("#pay").click();
    await expect
      .poll(() => alice.locator("#confirmation").textContent())
      .toMatch(/Big Hall, Tue, 1 Jun 2027, 19:00 UTC: seat 5.*Paid 50,000 won for 1 seat.*Balance left: 10,000 won/);
    await bob.locator('#seats button[data-seat="5"][data-status="sold"]').waitFor();

    // Paying ended Alice's queue token: the freed slot lets Carol in, no reload.
    await carol.locator("#booking:not([hidden])").waitFor({ timeout: 10_000 });
    await seat(carol, 2000).waitFor();
    expect(await seat(carol, 5).getAttribute("data-status")).toBe("sold");

    // Keyboard: Bob moves from seat 1 to seat 2 with the arrow key and holds it with Enter.
    await seat(bob, 1).focus();
    await bob.keyboard.press("ArrowRight");
    await bob.keyboard.press("Enter");
    await mySeat(bob, 2).waitFor();
    await carol.locator('#seats button[data-seat="2"][data-status="held"]').waitFor();
    // The per-user limit (2 here) comes back as a readable message.
    await seat(bob, 3).click();
    await mySeat(bob, 3).waitFor();
    await seat(bob, 4).click();
    await expect.poll(() => bob.locator("#alert").textContent()).toContain("You already hold as many seats");
    expect(await bob.locator("#alert").textContent()).not.toContain("HOLD_LIMIT");

    await screenshot(bob, "seatmap.png");
    for (const page of [alice, bob, carol]) expect(navigations.get(page)).toBe(1);

    // All of the above ran under the strict policy (so "no violation" means something) and broke none of it.
    const responses = observed.flatMap((o) => o.responses);
    const document = responses.find((r) => r.url() === `${server.url}/`)!;
    expect((await document.headerValue("content-security-policy")) ?? "").toMatch(
      /^default-src 'none';.*frame-ancestors 'none'/,
    );
    expect(observed.flatMap((o) => o.violations)).toEqual([]);
    expect(observed.flatMap((o) => o.consoleErrors)).toEqual([]);
    // The script and style sheet came by content-hashed names, cacheable for a year.
    const assets = responses.filter((r) => /\/assets\/app-[A-Z0-9]{8}\.(js|css)$/.test(r.url()));
    expect(new Set(assets.map((r) => r.url().slice(r.url().lastIndexOf(".")))).size).toBe(2);
    for (const asset of assets) {
      expect(asset.status(), asset.url()).toBe(200);
      expect(await asset.headerValue("cache-control"), asset.url()).toBe("public, max-age=31536000, immutable");
    }
    console.log(`seat map of 2,000 seats: first render ${renderMs} ms after sign-in`);
  }, 60_000);
});
