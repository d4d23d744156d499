// An on-sale's waiting room in headless Chromium (issue 13, item 9), as fans use it: the on-sales
// listed beside the site's booking area, the pre-queue with its countdown in the venue's time and
// the published commitment, a reload that keeps the place, the draw at the opening with each fan's
// place checked in the browser (Web Crypto) against `draw.get`, admission with the booking time
// left, a reload mid-booking that keeps the room and its holds, the receipt naming the concert and
// date in Seoul time, sold out (the push, and 410 at a later check-in), and the 390×844 phone
// layout. Screenshots go to tests/artifacts/. The tests of this file run in order on one server.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawOrder, entryIdOf } from "../../src/draw.js";
import { adminHeaders, createConcert, http } from "../helpers/client.js";
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
  type Visitor,
} from "./browser.js";

// Callbacks of page.evaluate run in the browser; tests are type-checked without the DOM library.
declare const window: any, document: any, sessionStorage: any;

/** Time from creating the on-sale to its opening: two fans sign in, line up and one reloads meanwhile. */
const OPENS_IN_MS = 18_000;
const SEOUL = "Asia/Seoul";
const seoulTime = (instant: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: SEOUL, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(instant),
  );

describe.runIf(chromiumAvailable || inCi)("an on-sale's waiting room in the page", () => {
  let browser: Browser;
  let server: TestServer;
  const seen: Observed[] = [];
  let onSale: { id: number; opensAt: string; commitment: string };
  let rita: Visitor;
  let pia: Visitor;

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startServer({ env: { DEV_LOGIN: "1", QUEUE_TICK_MS: "100" } }),
      launchChromium(),
    ]);
    // The site's own concert: booked behind the site room, next to the on-sales.
    await createConcert(server, [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 200, price: 50_000 }], "Big Hall");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  async function createOnSale(title: string, seatCount: number, onSaleArgs: Record<string, unknown>) {
    const reply = await http(server, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(server),
      body: {
        title,
        timeZone: SEOUL,
        schedules: [{ startsAt: "2027-04-10T19:00:00+09:00", seatCount, price: 88_000 }],
        onSale: onSaleArgs,
      },
    });
    expect(reply.status, reply.text).toBe(201);
    return reply.body as {
      id: number;
      schedules: { id: number }[];
      onSale: { opensAt: string | null; commitment: string | null };
    };
  }

  /** A signed-in fan, admitted to the site room (Big Hall's map shown). */
  async function fan(name: string, viewport = { width: 1280, height: 900 }): Promise<Visitor> {
    const visitor = await openPage(browser, server.url, name, viewport);
    seen.push(visitor.observed);
    await signIn(visitor.page, name);
    await seat(visitor.page, 200).waitFor({ timeout: 15_000 });
    return visitor;
  }

  const session = (page: Page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("tickets.session") ?? "null"));

  /** The page fits the viewport's width: nothing to scroll sideways. */
  const fitsWidth = (page: Page) =>
    page.evaluate(() => {
      window.scrollTo(1000, window.scrollY);
      return { pageWidth: document.documentElement.scrollWidth, scrollX: window.scrollX, width: window.innerWidth };
    });

  function expectCleanConsole(observed: Observed): void {
    expect(observed.violations).toEqual([]);
    expect(observed.consoleErrors).toEqual([]);
  }

  it("lists the on-sale beside the site's concerts; lining up shows the pre-queue: the concert, its opening in Seoul time with a countdown, and the commitment; a reload keeps the token", async () => {
    const created = await createOnSale("Seoul Opening", 100, {
      opensAt: new Date(Date.now() + OPENS_IN_MS).toISOString(),
      activeMax: 10,
    });
    onSale = { id: created.id, opensAt: created.onSale.opensAt!, commitment: created.onSale.commitment! };
    // Admission stays paused through the draw, so every fan's place in line is their place in the draw.
    const paused = await http(server, "PATCH", `/v1/admin/concerts/${onSale.id}/onsale`, {
      headers: adminHeaders(server),
      body: { paused: true },
    });
    expect(paused.status, paused.text).toBe(200);
    // Three fans line up before the opening outside the browser; two more come through the page.
    for (const user of ["ann", "ben", "cat"]) {
      const reply = await http(server, "POST", "/v1/queue/check", { user, body: { concertId: onSale.id } });
      expect(reply.body).toMatchObject({ status: "pre", concertId: onSale.id, position: null, etaSeconds: null });
    }

    rita = await fan("rita");
    const { page, observed } = rita;
    // The site's picker offers only the concert without an on-sale; the on-sale has its own card.
    expect(await page.locator("#concert option").allTextContents()).toEqual(["Big Hall"]);
    const card = page.locator(`.onsale[data-concert="${onSale.id}"]`);
    await expect.poll(() => card.locator("h3").textContent()).toBe("Seoul Opening");
    expect(await card.locator(".onsale-when").textContent()).toMatch(
      new RegExp(`^Opens \\w{3}, \\d{1,2} \\w{3} \\d{4}, ${seoulTime(onSale.opensAt)} Seoul time \\(GMT\\+9\\)$`),
    );
    await page.getByRole("button", { name: "Line up for the draw: Seoul Opening" }).click();

    await expect.poll(() => page.locator("#queue-title").textContent()).toBe("Waiting room: Seoul Opening");
    expect(await page.locator("#queue").getAttribute("data-state")).toBe("pre");
    expect(await page.locator("#queue-opening").textContent()).toMatch(
      new RegExp(`^Opens \\w{3}, \\d{1,2} \\w{3} \\d{4}, ${seoulTime(onSale.opensAt)} Seoul time \\(GMT\\+9\\)$`),
    );
    const countdown = async () => {
      const [minutes, seconds] = ((await page.locator("#queue-opens-in").textContent()) ?? "").split(":").map(Number);
      return minutes! * 60 + seconds!;
    };
    const first = await countdown();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(OPENS_IN_MS / 1000);
    await expect.poll(countdown, { timeout: 3000 }).toBeLessThan(first);
    expect(await page.locator("#queue-status").textContent()).toContain("You are in the pre-queue");
    // The commitment is shown as published, to be noted down; the check comes after the opening.
    expect(await page.locator("#draw-commitment").textContent()).toBe(onSale.commitment);
    expect(await page.locator("#draw-check").isHidden()).toBe(true);
    expect(await page.locator("#draw-cli").textContent()).toBe(
      `npm run verify-draw -- ${onSale.id} --server ${server.url} --user demo:rita`,
    );
    // The waiting room names its concert; the page no longer shows the site's map.
    expect(await page.locator("#booking").isHidden()).toBe(true);
    expect(await page.getByRole("button", { name: "Back to the other concerts" }).isVisible()).toBe(true);
    await screenshot(page, "onsale-prequeue-desktop.png");

    const before = await session(page);
    expect(before).toMatchObject({ room: onSale.id, queueStatus: "pre" });
    await page.reload();
    await expect.poll(() => page.locator("#queue").getAttribute("data-state"), { timeout: 10_000 }).toBe("pre");
    expect(await page.locator("#queue-title").textContent()).toBe("Waiting room: Seoul Opening");
    expect(await countdown()).toBeGreaterThan(0);
    expect(await page.locator("#draw-commitment").textContent()).toBe(onSale.commitment);
    // Checked in again with the same token in the same room: the same entry in the draw.
    expect((await session(page)).queueToken).toBe(before.queueToken);
    expect(sent(observed, "queue.check").at(-1)).toEqual({ token: before.queueToken, concertId: onSale.id });
    expectCleanConsole(observed);
  }, 40_000);

  it("on a 390×844 phone the pre-queue fits and stays readable: no sideways scroll, the countdown and the whole commitment in view", async () => {
    pia = await fan("pia", PHONE);
    const { page, observed } = pia;
    await page.getByRole("button", { name: "Line up for the draw: Seoul Opening" }).click();
    await expect.poll(() => page.locator("#queue").getAttribute("data-state")).toBe("pre");
    const layout = await fitsWidth(page);
    expect(layout.pageWidth).toBeLessThanOrEqual(390);
    expect(layout.scrollX).toBe(0);
    for (const id of ["queue-title", "queue-opens-in", "queue-opening", "draw-commitment", "draw-cli"]) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x, id).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
    }
    // Readable: the countdown is large, the text is not tiny.
    const sizes = await page.evaluate(() => ({
      countdown: Number.parseFloat(window.getComputedStyle(document.getElementById("queue-opens-in")).fontSize),
      status: Number.parseFloat(window.getComputedStyle(document.getElementById("queue-status")).fontSize),
      commitment: Number.parseFloat(window.getComputedStyle(document.getElementById("draw-commitment")).fontSize),
    }));
    expect(sizes.countdown).toBeGreaterThanOrEqual(28);
    expect(sizes.status).toBeGreaterThanOrEqual(14);
    expect(sizes.commitment).toBeGreaterThanOrEqual(12);
    await page.locator("#queue").scrollIntoViewIfNeeded();
    await screenshot(page, "onsale-prequeue-phone.png");
    expectCleanConsole(observed);
  }, 30_000);

  it(
    "at the opening the draw gives each fan their place in line, and the in-browser check finds the same place from the seed and the entries",
    async () => {
      const { page, observed } = rita;
      await expect
        .poll(() => page.locator("#queue").getAttribute("data-state"), { timeout: OPENS_IN_MS + 5000 })
        .toBe("waiting");
      const draw = (await http(server, "GET", `/v1/concerts/${onSale.id}/draw`, { user: "checker" })).body;
      expect(draw.entries).toHaveLength(5);
      expect(drawOrder(draw.seed, draw.entries)).toEqual(draw.entries);
      const placeOf = (userId: string) => draw.entries.indexOf(entryIdOf(onSale.id, userId)) + 1;
      const ritaPlace = placeOf("demo:rita");
      expect(ritaPlace).toBeGreaterThan(0);
      // Paused: nobody was admitted, so the place in line is the place in the draw.
      await expect.poll(() => page.locator("#queue-position").textContent()).toBe(String(ritaPlace));
      expect(await page.locator("#queue-waiting").textContent()).toBe("5");
      await expect.poll(() => page.locator("#queue-status").textContent()).toContain("Admission is paused");
      expect(await page.locator("#queue-opening").textContent()).toMatch(/^Opened /);

      await page.getByRole("button", { name: "Check the draw" }).click();
      const result = page.locator("#draw-result");
      await expect.poll(() => result.getAttribute("data-verified")).toBe("true");
      const text = await result.textContent();
      expect(text).toContain(draw.seed);
      expect(text).toContain("✓ SHA-256 of the seed is the commitment published before the opening.");
      expect(text).toContain("✓ All 5 entries are in the order the seed gives (HMAC-SHA256).");
      expect(text).toContain(`drew place ${ritaPlace} of 5.`);
      expect(sent(observed, "draw.get")).toEqual([{ concertId: onSale.id }]);
      await screenshot(page, "onsale-draw-desktop.png");

      // The phone fan's own place, checked the same way, fits the screen too.
      const phone = pia.page;
      await expect.poll(() => phone.locator("#queue-position").textContent()).toBe(String(placeOf("demo:pia")));
      await phone.getByRole("button", { name: "Check the draw" }).click();
      await expect
        .poll(() => phone.locator("#draw-result").textContent())
        .toContain(`drew place ${placeOf("demo:pia")} of 5.`);
      const layout = await fitsWidth(phone);
      expect(layout.pageWidth).toBeLessThanOrEqual(390);
      expect(layout.scrollX).toBe(0);
      await phone.locator("#queue").scrollIntoViewIfNeeded();
      await screenshot(phone, "onsale-waiting-phone.png");
      await phone.locator("#draw-result").scrollIntoViewIfNeeded();
      await screenshot(phone, "onsale-draw-phone.png");
      expectCleanConsole(observed);
      expectCleanConsole(pia.observed);
    },
    OPENS_IN_MS + 30_000,
  );

  it('admission says "you\'re in" with the booking time left in Seoul time; a reload mid-booking keeps the room, its token and the holds; the receipt names the concert and date', async () => {
    const { page, observed } = rita;
    const resumed = await http(server, "PATCH", `/v1/admin/concerts/${onSale.id}/onsale`, {
      headers: adminHeaders(server),
      body: { paused: false },
    });
    expect(resumed.status, resumed.text).toBe(200);
    await expect
      .poll(() => page.locator("#window-text").textContent(), { timeout: 5000 })
      .toMatch(
        /^You're in for Seoul Opening: [0-9]+:[0-9]{2} of booking time left \(until [0-9:]{8} Seoul time \(GMT\+9\)\)\.$/,
      );
    await seat(page, 100).waitFor();
    expect(await page.locator("#concert option").allTextContents()).toEqual(["Seoul Opening"]);
    // Dates in the venue's wall-clock time, the picker's label naming the zone.
    expect(await page.getByLabel("Date (Seoul time)").locator("option:checked").textContent()).toBe(
      "Sat, 10 Apr 2027, 19:00 · 100 free",
    );
    await seat(page, 5).click();
    await mySeat(page, 5).waitFor();
    await screenshot(page, "onsale-admitted-desktop.png");
    // The phone fan is let in too (ten places): the banner, the pickers and the map fit.
    const phone = pia.page;
    await seat(phone, 100).waitFor({ timeout: 5000 });
    expect(await phone.locator("#window-text").textContent()).toMatch(/^You're in for Seoul Opening: /);
    const picker = await phone.locator("#schedule").boundingBox();
    expect(picker!.x + picker!.width).toBeLessThanOrEqual(390);
    expect((await fitsWidth(phone)).pageWidth).toBeLessThanOrEqual(390);
    await phone.evaluate(() => window.scrollTo(0, 0));
    await screenshot(phone, "onsale-admitted-phone.png");

    const before = await session(page);
    expect(before).toMatchObject({ room: onSale.id, queueStatus: "active" });
    await page.reload();
    await mySeat(page, 5).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator("#window-text").textContent()).toMatch(/^You're in for Seoul Opening: /);
    expect((await session(page)).queueToken).toBe(before.queueToken);
    expect(await page.locator("#holds li").first().textContent()).toMatch(
      /^Seat 5 · 88,000 wonReleaseSeoul Opening, Sat, 10 Apr 2027, 19:00 Seoul time \(GMT\+9\)[0-9]+:[0-9]{2} left · ends [0-9:]{8} Seoul time \(GMT\+9\)$/,
    );
    // Still in the window after the reload: another hold of this concert works.
    await seat(page, 6).click();
    await mySeat(page, 6).waitFor();
    expect(await page.locator("#alert").isHidden()).toBe(true);

    await page.getByLabel("Add money (won)").fill("176000");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => page.locator("#balance").textContent()).toBe("176,000 won");
    await page.locator("#pay").click();
    await expect
      .poll(() => page.locator("#confirmation").textContent())
      .toBe(
        "BookedSeoul Opening, Sat, 10 Apr 2027, 19:00 Seoul time (GMT+9): seats 5, 6Paid 176,000 won for 2 seats (payment #1). Balance left: 0 won.",
      );
    // Paying ended the room's token: the booking is done, and the line is offered again.
    await expect.poll(() => page.locator("#window-text").textContent()).toContain("Your booking window has ended.");
    expectCleanConsole(observed);
  }, 30_000);

  it('sold out: a fan in line is told by the push, asking again is 410 ("still sold out"), and a fan who comes later sees it on a phone', async () => {
    const tiny = await createOnSale("Tiny Club", 1, { activeMax: 1 });
    // Someone else holds the only seat before our fan arrives.
    const buyer = await http(server, "POST", "/v1/queue/check", { user: "buyer", body: { concertId: tiny.id } });
    expect(buyer.body.status).toBe("active");
    const hold = await http(server, "POST", "/v1/reservations", {
      user: "buyer",
      queueToken: buyer.body.token,
      body: { scheduleId: tiny.schedules[0]!.id, seatNo: 1 },
    });
    expect(hold.status, hold.text).toBe(201);

    const sol = await fan("sol");
    const { page, observed } = sol;
    await page.getByRole("button", { name: "Enter the waiting room: Tiny Club" }).click();
    await expect.poll(() => page.locator("#queue-position").textContent()).toBe("1");
    expect(await page.locator("#queue-title").textContent()).toBe("Waiting room: Tiny Club");

    await http(server, "POST", "/v1/balance/charge", { user: "buyer", body: { amount: 88_000 } });
    const paid = await http(server, "POST", "/v1/payments", {
      user: "buyer",
      body: { reservationIds: [hold.body.reservationId] },
    });
    expect(paid.status, paid.text).toBe(201);
    await expect.poll(() => page.locator("#queue").getAttribute("data-state"), { timeout: 5000 }).toBe("soldout");
    expect(await page.locator("#queue-status").textContent()).toBe("Sold out: every seat of Tiny Club has been sold.");
    expect((await session(page)).queueStatus).toBe("soldout");
    await page.getByRole("button", { name: "Check again" }).click();
    await expect.poll(() => page.locator("#notice").textContent()).toBe("Still sold out.");
    expect(await page.locator("#queue").getAttribute("data-state")).toBe("soldout");
    await screenshot(page, "onsale-soldout-desktop.png");
    // Back to the site's concerts: the site room (its token still active) and Big Hall's map.
    await page.getByRole("button", { name: "Back to the other concerts" }).click();
    await seat(page, 200).waitFor();
    expect(sent(observed, "queue.check").at(-1)).toEqual({});
    expect(await page.locator("#window-text").textContent()).toMatch(/^Your booking window: .* UTC\)\.$/);
    expect(await page.locator("#concert option").allTextContents()).toEqual(["Big Hall"]);
    expect(await page.locator(`.onsale[data-concert="${tiny.id}"]`).isVisible()).toBe(true);

    const late = await fan("lena", PHONE);
    const card = late.page.locator(`.onsale[data-concert="${tiny.id}"]`);
    await expect.poll(() => card.getAttribute("data-state")).toBe("soldout");
    expect(await card.locator(".onsale-status").textContent()).toBe("Sold out: every seat has been sold.");
    await late.page.getByRole("button", { name: "Check again: Tiny Club" }).click();
    await expect.poll(() => late.page.locator("#queue").getAttribute("data-state")).toBe("soldout");
    expect(await late.page.locator("#queue-title").textContent()).toBe("Waiting room: Tiny Club");
    // Lena has no token in that room, so only the check-in's 410 SOLD_OUT can have said so.
    expect(sent(late.observed, "queue.check").at(-1)).toEqual({ concertId: tiny.id });
    const layout = await fitsWidth(late.page);
    expect(layout.pageWidth).toBeLessThanOrEqual(390);
    await late.page.locator("#queue").scrollIntoViewIfNeeded();
    await screenshot(late.page, "onsale-soldout-phone.png");
    expectCleanConsole(observed);
    expectCleanConsole(late.observed);
  }, 30_000);

  it("no page broke the strict Content-Security-Policy", () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.flatMap((o) => o.violations)).toEqual([]);
  });
});
