// Shared by the browser tests: Debian's headless Chromium through playwright-core, visitors that
// record every CSP violation, console error and WebSocket frame they send, and screenshots into
// tests/artifacts/.
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const chromiumAvailable = existsSync(CHROMIUM);
export const inCi = process.env.CI === "true" || process.env.CI === "1";
const ARTIFACTS = resolve(import.meta.dirname, "../artifacts");

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

if (!chromiumAvailable && !inCi) {
  console.warn(
    `browser test skipped: ${CHROMIUM} is missing (apt-get install chromium); under CI=true it fails instead`,
  );
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)`);
  return chromium.launch({
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
}

/** What the page did that a test may check: CSP violations, console errors, WebSockets and their ops. */
export interface Observed {
  violations: string[];
  consoleErrors: string[];
  /** WebSockets the page opened (a double click must not open a second). */
  sockets: number;
  /** Every request frame the page sent, in order. */
  framesSent: { op: string; args: Record<string, unknown> }[];
  responses: Response[];
}

export interface Visitor {
  page: Page;
  observed: Observed;
}

/** A new browser context (its own sessionStorage) at `viewport`, on the page, not signed in yet. */
export async function openPage(
  browser: Browser,
  url: string,
  name: string,
  viewport: { width: number; height: number } = DESKTOP,
  /** A phone's touch screen: touch events, a coarse pointer, and the page's viewport meta obeyed. */
  touch = false,
): Promise<Visitor> {
  const observed: Observed = { violations: [], consoleErrors: [], sockets: 0, framesSent: [], responses: [] };
  const context = await browser.newContext({ viewport, ...(touch ? { hasTouch: true, isMobile: true } : {}) });
  // Runs before the page's own script (and is not subject to its CSP): reports every violation.
  await context.exposeBinding("reportViolation", (_source, text: string) =>
    observed.violations.push(`${name}: ${text}`),
  );
  await context.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) =>
      reportViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline")));`,
  });
  const page = await context.newPage();
  // Fail a step with its reason well before the test's own timeout.
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) observed.violations.push(`${name}: ${message.text()}`);
    if (message.type() === "error") observed.consoleErrors.push(`${name}: ${message.text()}`);
  });
  page.on("pageerror", (error) => observed.consoleErrors.push(`${name}: ${error.message}`));
  page.on("response", (response) => observed.responses.push(response));
  page.on("websocket", (socket) => {
    observed.sockets++;
    socket.on("framesent", ({ payload }) => {
      try {
        const frame = JSON.parse(String(payload));
        observed.framesSent.push({ op: frame.op, args: frame.args ?? {} });
      } catch {}
    });
  });
  await page.goto(url);
  return { page, observed };
}

export async function signIn(page: Page, name: string): Promise<void> {
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Enter the waiting room" }).click();
}

export const seat = (page: Page, no: number) => page.locator(`#seats button[data-seat="${no}"]`);
export const mySeat = (page: Page, no: number) => page.locator(`#seats button[data-seat="${no}"][data-mine]`);

export async function screenshot(page: Page, file: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, file) });
}

/** The request frames of one op that a visitor sent. */
export function sent(observed: Observed, op: string): Record<string, unknown>[] {
  return observed.framesSent.filter((frame) => frame.op === op).map((frame) => frame.args);
}
