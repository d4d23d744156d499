// The live seat-map page in real headless Chromium (Debian's chromium via playwright-core): holds and
// sales show up in another browser without reloading, and a visitor waiting in a full queue is let
// in by itself when a slot frees; all of it under the page's strict Content-Security-Policy with no
// violation. A screenshot goes to tests/artifacts/.
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConcert } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
const inCi = process.env.CI === "true" || process.env.CI === "1";
const ARTIFACTS = resolve(import.meta.dirname, "../artifacts");

if (!available && !inCi) {
  console.warn(
    `browser test skipped: ${CHROMIUM} is missing (apt-get install chromium); under CI=true it fails instead`,
  );
}

describe.runIf(available || inCi)("seat-map page in headless Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  const navigations = new Map<Page, number>();
  /** CSP violations (the DOM event, and Chromium's console report) and console errors, per visitor. */
  const violations: string[] = [];
  const consoleErrors: string[] = [];
  const responses: Response[] = [];

  beforeAll(async () => {
    if (!available) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)`);
    server = await startServer({
      env: { DEV_LOGIN: "1", QUEUE_ACTIVE_MAX: "2", QUEUE_TICK_MS: "100", MAX_HOLDS_PER_USER: "2" },
    });
    await createConcert(server, [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 2000, price: 50_000 }], "Big Hall");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  async function visitor(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Runs before the page's own script (and is not subject to its CSP): reports every violation.
    await context.exposeBinding("reportViolation", (_source, text: string) => violations.push(`${name}: ${text}`));
    await context.addInitScript({
      content: `document.addEventListener("securitypolicyviolation", (event) =>
        reportViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline")));`,
    });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (/Content.Security.Policy/i.test(message.text())) violations.push(`${name}: ${message.text()}`);
      if (message.type() === "error") consoleErrors.push(`${name}: ${message.text()}`);
    });
    page.on("response", (response) => responses.push(response));
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.set(page, (navigations.get(page) ?? 0) + 1);
    });
    await page.goto(server.url);
    await page.getByLabel("Your name").fill(name);
    await page.getByRole("button", { name: "Enter the waiting room" }).click();
    return page;
  }

  const seat = (page: Page, no: number) => page.locator(`#seats button[data-seat="${no}"]`);

  it("shows holds and sales live across browsers and lets a waiting visitor in without reloading, under the strict CSP with no violation", async () => {
    const started = Date.now();
    const alice = await visitor("alice");
    await expect.poll(() => seat(alice, 2000).count(), { timeout: 10_000 }).toBe(1);
    const renderMs = Date.now() - started;
    const bob = await visitor("bob");
    await seat(bob, 2000).waitFor();
    expect(await seat(bob, 5).getAttribute("aria-label")).toBe("Seat 5, available, 50,000 won");

    // The queue is full (QUEUE_ACTIVE_MAX=2): carol waits, and sees her place.
    const carol = await visitor("carol");
    await carol.locator("#queue:not([hidden])").waitFor();
    await expect.poll(() => carol.locator("#queue-position").textContent()).toBe("1");

    // Alice holds seat 5; Bob's map turns it held from a push.
    await seat(alice, 5).click();
    await alice.locator('#seats button[data-seat="5"][data-mine="true"]').waitFor();
    await bob.locator('#seats button[data-seat="5"][data-status="held"]').waitFor();
    expect(await seat(bob, 5).getAttribute("aria-label")).toContain("held");
    expect(await alice.locator("#holds li").textContent()).toMatch(/Seat 5 · 50,000 won · [0-9]+:[0-9]{2} left/);

    // Paying without money is a readable error; then she charges and pays.
    await alice.locator("#pay").click();
    await expect.poll(() => alice.locator("#alert").textContent()).toContain("Your balance is too low");
    await alice.getByLabel("Add money (won)").fill("60000");
    await alice.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => alice.locator("#balance").textContent()).toBe("60,000 won");
    await alice.locator("#pay").click();
    await expect.poll(() => alice.locator("#confirmation").textContent()).toMatch(/Paid 50,000 won for seat\(s\) 5/);
    await bob.locator('#seats button[data-seat="5"][data-status="sold"]').waitFor();

    // Paying ended Alice's queue token: the freed slot lets Carol in, no reload.
    await carol.locator("#booking:not([hidden])").waitFor({ timeout: 10_000 });
    await seat(carol, 2000).waitFor();
    expect(await seat(carol, 5).getAttribute("data-status")).toBe("sold");

    // Keyboard: Bob moves from seat 1 to seat 2 with the arrow key and holds it with Enter.
    await seat(bob, 1).focus();
    await bob.keyboard.press("ArrowRight");
    await bob.keyboard.press("Enter");
    await bob.locator('#seats button[data-seat="2"][data-mine="true"]').waitFor();
    await carol.locator('#seats button[data-seat="2"][data-status="held"]').waitFor();
    // The per-user limit (2 here) comes back as a readable message.
    await seat(bob, 3).click();
    await bob.locator('#seats button[data-seat="3"][data-mine="true"]').waitFor();
    await seat(bob, 4).click();
    await expect.poll(() => bob.locator("#alert").textContent()).toContain("You already hold as many seats");

    mkdirSync(ARTIFACTS, { recursive: true });
    await bob.screenshot({ path: resolve(ARTIFACTS, "seatmap.png") });
    for (const page of [alice, bob, carol]) expect(navigations.get(page)).toBe(1);

    // All of the above ran under the strict policy (so "no violation" means something) and broke none of it.
    const document = responses.find((r) => r.url() === `${server.url}/`)!;
    expect((await document.headerValue("content-security-policy")) ?? "").toMatch(
      /^default-src 'none';.*frame-ancestors 'none'/,
    );
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
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
