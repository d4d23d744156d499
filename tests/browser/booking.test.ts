// The page tried as a fan would (issue 13), in headless Chromium at 1280×900 and 390×844: a reload
// keeps the booking, the phone layout fits, holds outlive the booking window and stay payable (with
// an offer to add exactly the missing money), double clicks do one thing, refused clicks and running
// out holds say so, and actions made while reconnecting wait visibly. Screenshots go to tests/artifacts/.
import type { Browser, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeToken, createConcert, http } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";
import {
  chromiumAvailable,
  inCi,
  launchChromium,
  mySeat,
  type Observed,
  openPage,
  PHONE,
  screenshot,
  seat,
  sent,
  signIn,
} from "./browser.js";

// Callbacks of page.evaluate run in the browser; tests are type-checked without the DOM library.
declare const window: any, document: any, sessionStorage: any, localStorage: any;

const BASE_ENV = { DEV_LOGIN: "1", QUEUE_TICK_MS: "100" };
/** Active tokens of `short` last this long: enough to sign in and hold, short enough to wait out. */
const SHORT_WINDOW_MS = 8000;
const SHORT_HOLD_MS = 4000;

describe.runIf(chromiumAvailable || inCi)("the booking page as a fan uses it", () => {
  let browser: Browser;
  /** Default windows and holds; Big Hall has 2,000 seats on one date and 500 on another. */
  let main: TestServer;
  /** Booking windows of SHORT_WINDOW_MS. */
  let short: TestServer;
  /** Holds of SHORT_HOLD_MS. */
  let brief: TestServer;
  const seen: Observed[] = [];

  beforeAll(async () => {
    [main, short, brief, browser] = await Promise.all([
      startServer({ env: BASE_ENV }),
      startServer({ env: { ...BASE_ENV, QUEUE_ACTIVE_TTL_MS: String(SHORT_WINDOW_MS) } }),
      startServer({ env: { ...BASE_ENV, HOLD_TTL_MS: String(SHORT_HOLD_MS) } }),
      launchChromium(),
    ]);
    await createConcert(
      main,
      [
        { startsAt: "2027-06-01T19:00:00Z", seatCount: 2000, price: 50_000 },
        { startsAt: "2027-06-02T18:30:00Z", seatCount: 500, price: 40_000 },
      ],
      "Big Hall",
    );
    await createConcert(short, [{ startsAt: "2027-07-10T20:00:00Z", seatCount: 200, price: 30_000 }], "Club Night");
    await createConcert(brief, [{ startsAt: "2027-08-20T17:00:00Z", seatCount: 100, price: 10_000 }], "Matinee");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of [main, short, brief]) {
      await server?.stop();
      server?.cleanup();
    }
  });

  /** A signed-in fan on `server`, with the map of the first date shown (`lastSeat` is its last seat). */
  async function fan(server: TestServer, name: string, lastSeat: number, viewport = { width: 1280, height: 900 }) {
    const visitor = await openPage(browser, server.url, name, viewport);
    seen.push(visitor.observed);
    await signIn(visitor.page, name);
    await seat(visitor.page, lastSeat).waitFor({ timeout: 15_000 });
    return visitor;
  }

  async function hold(page: Page, ...seatNos: number[]): Promise<void> {
    for (const no of seatNos) {
      await seat(page, no).click();
      await mySeat(page, no).waitFor();
    }
  }

  const storage = (page: Page) =>
    page.evaluate(() => ({
      session: JSON.parse(sessionStorage.getItem("tickets.session") ?? "null"),
      localItems: localStorage.length,
    }));

  function expectCleanConsole(observed: Observed): void {
    expect(observed.violations).toEqual([]);
    expect(observed.consoleErrors).toEqual([]);
  }

  it("a reload mid-booking keeps the sign-in, the booking window and the holds with their countdowns, and a new hold still works", async () => {
    const { page, observed } = await fan(main, "rita", 2000);
    await hold(page, 11, 12);
    const before = await storage(page);
    expect(before.session).toMatchObject({ userId: "demo:rita", queueStatus: "active", scheduleId: 1 });
    expect(before.localItems).toBe(0);

    await page.reload();
    await mySeat(page, 12).waitFor({ timeout: 15_000 });
    await mySeat(page, 11).waitFor();
    expect(await page.locator("#login").isHidden()).toBe(true);
    expect(await page.locator("#who").textContent()).toBe("Signed in as demo:rita");
    await expect.poll(() => page.locator("#holds li").count()).toBe(2);
    expect(await page.locator("#holds li").first().textContent()).toMatch(
      /^Seat 11 · 50,000 wonReleaseBig Hall, Tue, 1 Jun 2027, 19:00 UTC[0-9]+:[0-9]{2} left · ends [0-9:]{8} UTC$/,
    );
    expect(await page.locator("#pay").textContent()).toBe("Pay 100,000 won");
    await expect
      .poll(() => page.locator("#window-text").textContent())
      .toMatch(/^Your booking window: [0-9]+:[0-9]{2} left \(until [0-9:]{8} UTC\)\.$/);
    // Same token, so the same place: the reload did not send the fan to the back of the line.
    const after = await storage(page);
    expect(after.session.queueToken).toBe(before.session.queueToken);
    expect(after.localItems).toBe(0);

    // The page knows its holds again, so a third one is simply a third one (the limit is 4).
    await hold(page, 13);
    expect(await page.locator("#holds li").count()).toBe(3);
    expect(await page.locator("#alert").isHidden()).toBe(true);
    await screenshot(page, "reload-desktop.png");
    expectCleanConsole(observed);
  }, 30_000);

  it("on a 390×844 phone the page fits: no sideways scroll, seats of at least 24×24 px, a usable date picker, Pay in view", async () => {
    const { page, observed } = await fan(main, "pia", 2000, PHONE);
    await hold(page, 3, 4);
    const layout = await page.evaluate(() => {
      window.scrollTo(1000, 0);
      const sizes = Array.from(document.querySelectorAll("#seats button"), (b: any) => b.getBoundingClientRect());
      const picker = document.getElementById("schedule")!.getBoundingClientRect();
      const map = document.getElementById("seats")!;
      return {
        pageWidth: document.documentElement.scrollWidth,
        scrollX: window.scrollX,
        seats: sizes.length,
        narrowest: Math.min(...sizes.map((r: any) => r.width)),
        lowest: Math.min(...sizes.map((r: any) => r.height)),
        picker: { left: picker.left, right: picker.right, width: picker.width },
        mapScrolls: map.scrollHeight > map.clientHeight && map.getBoundingClientRect().right <= 390,
      };
    });
    expect(layout.pageWidth).toBeLessThanOrEqual(390);
    expect(layout.scrollX).toBe(0);
    expect(layout.seats).toBe(2000);
    expect(layout.narrowest).toBeGreaterThanOrEqual(24);
    expect(layout.lowest).toBeGreaterThanOrEqual(24);
    expect(layout.picker.left).toBeGreaterThanOrEqual(0);
    expect(layout.picker.right).toBeLessThanOrEqual(390);
    expect(layout.picker.width).toBeGreaterThan(300);
    expect(layout.mapScrolls).toBe(true);

    // Pay is on screen and is what a tap there hits, at the top and in the middle of the page.
    const payInView = () =>
      page.locator("#pay").evaluate((pay) => {
        const r = pay.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && hit === pay;
      });
    expect(await payInView()).toBe(true);
    expect(await page.locator("#pay").textContent()).toBe("Pay 100,000 won");
    await screenshot(page, "phone.png");
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
    expect(await payInView()).toBe(true);

    // The date picker works: the second date's 500 seats replace the map, and the holds stay.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator("#schedule").selectOption({ index: 1 });
    await expect.poll(() => page.locator("#seats button").count()).toBe(500);
    // The picker's label names the zone once; its options are wall-clock dates in it.
    expect(await page.getByLabel("Date (UTC)").locator("option:checked").textContent()).toBe(
      "Wed, 2 Jun 2027, 18:30 · 500 free",
    );
    expect(await payInView()).toBe(true);
    await screenshot(page, "phone-second-date.png");
    expectCleanConsole(observed);
  }, 30_000);

  it("when the booking window ends the holds stay payable: Pay stays, rejoining is offered, and a short balance is topped up by exactly the difference", async () => {
    const { page, observed } = await fan(short, "wendy", 200);
    await expect.poll(() => page.locator("#window-text").textContent()).toMatch(/left \(until [0-9:]{8} UTC\)/);
    await hold(page, 7);
    await page.getByLabel("Add money (won)").fill("10000");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => page.locator("#balance").textContent()).toBe("10,000 won");

    await expect
      .poll(() => page.locator("#window-text").textContent(), { timeout: SHORT_WINDOW_MS + 4000 })
      .toBe(
        "Your booking window has ended. You can still pay for or release the seats you hold. To hold more seats, join the line again.",
      );
    expect(await page.locator("#booking").isVisible()).toBe(true);
    expect(await page.locator("#pay").isEnabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Join the line for more seats" }).isVisible()).toBe(true);
    expect(await mySeat(page, 7).count()).toBe(1);
    // More seats need the line again: said at once, nothing sent.
    await seat(page, 8).click();
    await expect.poll(() => page.locator("#notice").textContent()).toContain("Join the line again to hold more seats");
    expect(sent(observed, "reservations.create")).toHaveLength(1);
    await screenshot(page, "window-ended.png");

    // A reload keeps the holds payable and still only offers the line: it does not check in by itself.
    await page.reload();
    await expect.poll(() => page.locator("#holds li").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#window-text").textContent()).toContain("Your booking window has ended.");
    expect(await page.locator("#pay").isEnabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Join the line for more seats" }).isVisible()).toBe(true);
    await expect.poll(() => page.locator("#balance").textContent()).toBe("10,000 won");
    expect(sent(observed, "queue.check")).toHaveLength(1);
    await screenshot(page, "window-ended-reloaded.png");

    await page.locator("#pay").click();
    await expect
      .poll(() => page.locator("#pay-offer-text").textContent())
      .toBe("Your balance is 10,000 won, and 1 seat costs 30,000 won. Add the missing 20,000 won and pay?");
    await page.getByRole("button", { name: "Add 20,000 won and pay" }).click();
    await expect
      .poll(() => page.locator("#confirmation").textContent())
      .toBe(
        "BookedClub Night, Sat, 10 Jul 2027, 20:00 UTC: seat 7Paid 30,000 won for 1 seat (payment #1). Balance left: 0 won.",
      );
    expect(sent(observed, "balance.charge").map((args) => args.amount)).toEqual([10_000, 20_000]);
    expect(sent(observed, "payments.create")).toHaveLength(2); // the short one, then the paid one
    expect(await page.locator("#balance").textContent()).toBe("0 won");

    // Back in line on request: the line is empty, so a new window opens at once.
    await page.getByRole("button", { name: "Join the line again" }).click();
    await expect.poll(() => page.locator("#window-text").textContent()).toMatch(/^Your booking window: /);
    expect(await page.locator("#booking").isVisible()).toBe(true);
    expectCleanConsole(observed);
  }, 30_000);

  it("double clicks open one socket and send one sign-in, one hold and one payment", async () => {
    const { page, observed } = await openPage(browser, main.url, "dora");
    seen.push(observed);
    await page.getByLabel("Your name").fill("dora");
    await page.getByRole("button", { name: "Enter the waiting room" }).dblclick();
    await seat(page, 2000).waitFor({ timeout: 15_000 });
    expect(observed.sockets).toBe(1);
    expect(observed.responses.filter((r) => r.url().endsWith("/v1/dev/login"))).toHaveLength(1);

    await seat(page, 21).dblclick();
    await mySeat(page, 21).waitFor();
    expect(sent(observed, "reservations.create")).toHaveLength(1);
    expect(await page.locator("#holds li").count()).toBe(1);

    await page.getByLabel("Add money (won)").fill("50000");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => page.locator("#balance").textContent()).toBe("50,000 won");
    await page.locator("#pay").dblclick();
    await expect.poll(() => page.locator("#confirmation").textContent()).toContain("Paid 50,000 won for 1 seat");
    expect(sent(observed, "payments.create")).toHaveLength(1);
    expect(await page.locator("#alert").isHidden()).toBe(true);
    expectCleanConsole(observed);
  }, 30_000);

  it("clicks on held and sold seats say why and send nothing; seats name their status in words", async () => {
    const { page, observed } = await fan(main, "hugo", 2000);
    // Someone else holds seat 1990 and bought seat 1991 (paying ends their window, so the hold comes first).
    const other = { user: "mallory", queueToken: await activeToken(main, "mallory") };
    await http(main, "POST", "/v1/balance/charge", { user: "mallory", body: { amount: 50_000 } });
    const bought = await http(main, "POST", "/v1/reservations", { ...other, body: { scheduleId: 1, seatNo: 1991 } });
    await http(main, "POST", "/v1/reservations", { ...other, body: { scheduleId: 1, seatNo: 1990 } });
    await http(main, "POST", "/v1/payments", {
      user: "mallory",
      body: { reservationIds: [bought.body.reservationId] },
    });
    await page.locator('#seats button[data-seat="1990"][data-status="held"]').waitFor();
    await page.locator('#seats button[data-seat="1991"][data-status="sold"]').waitFor();
    expect(await seat(page, 1990).getAttribute("aria-label")).toBe("Seat 1990, held by someone else, 50,000 won");
    expect(await seat(page, 1991).getAttribute("aria-label")).toBe("Seat 1991, sold, 50,000 won");
    expect(await seat(page, 1991).getAttribute("aria-disabled")).toBe("true");

    // aria-disabled tells assistive technology; a click still answers (playwright would wait for "enabled").
    await seat(page, 1990).click({ force: true });
    await expect.poll(() => page.locator("#notice").textContent()).toContain("Seat 1990 is held by someone else");
    await seat(page, 1991).click({ force: true });
    await expect.poll(() => page.locator("#notice").textContent()).toContain("Seat 1991 is sold");
    expect(sent(observed, "reservations.create")).toHaveLength(0);
    // The dates' free counts follow (the shown one live from the map).
    await expect
      .poll(() => page.locator("#schedule option:checked").textContent())
      .toMatch(/:[0-9]{2} · [0-9,]+ free$/);
    expectCleanConsole(observed);
  }, 30_000);

  it("a hold that runs out is dropped with a notice, and a hold asked for while reconnecting waits visibly", async () => {
    // The fan's socket goes through a relay this test can cut, as a network drop would.
    let cut = false;
    let relay: WebSocketRoute | undefined;
    const { page, observed } = await openPage(browser, brief.url, "hana");
    seen.push(observed);
    await page.routeWebSocket(/\/v1\/ws/, (socket) => {
      if (cut) return socket.close({ code: 4001, reason: "network down" });
      relay = socket;
      socket.connectToServer();
    });
    await signIn(page, "hana");
    await seat(page, 100).waitFor({ timeout: 15_000 });

    // A hold of SHORT_HOLD_MS shows that it is running out, then goes, and says so.
    await hold(page, 5);
    expect(await page.locator("#holds li").textContent()).toContain("left, pay soon");
    expect(await page.locator("#holds li").getAttribute("data-expiring")).not.toBeNull();
    await expect
      .poll(() => page.locator("#notice").textContent(), { timeout: SHORT_HOLD_MS + 4000 })
      .toBe("Your hold on seat 5 (Matinee, Fri, 20 Aug 2027, 17:00 UTC) ran out, so the seat was released.");
    expect(await page.locator("#holds li").count()).toBe(0);
    await page.locator('#seats button[data-seat="5"][data-status="available"]').waitFor();

    // The network drops; a hold asked for meanwhile is shown as waiting, then made once it is back.
    cut = true;
    await relay!.close({ code: 4001, reason: "network down" });
    await expect.poll(() => page.locator("#connection").textContent()).toBe("Reconnecting…");
    await seat(page, 9).click();
    await expect
      .poll(() => page.locator("#connection").textContent())
      .toBe("Reconnecting… (1 action waiting to be sent)");
    expect(await seat(page, 9).getAttribute("aria-label")).toBe("Seat 9, waiting for the server, 10,000 won");
    expect(await page.locator("#notice").textContent()).toContain("sent as soon as it is back");
    await screenshot(page, "reconnecting.png");
    cut = false;
    await mySeat(page, 9).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator("#connection").textContent()).toBe("Live");
    expect(await page.locator("#holds li").count()).toBe(1);
    expectCleanConsole(observed);
  }, 30_000);

  it("no page broke the strict Content-Security-Policy", () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.flatMap((o) => o.violations)).toEqual([]);
  });
});
