// The draw of the on-sale whose room the page is in: before the opening the published commitment
// (for the fan to note down), after it a button that fetches draw.get and checks it in this
// browser (drawCheck.ts): the seed against the commitment, the order, and the fan's own place.
import type { Connection } from "./connection.js";
import { $, alertError, element } from "./dom.js";
import { checkDraw, type DrawCheck, webCryptoAvailable } from "./drawCheck.js";
import { count } from "./format.js";
import type { OnSaleStatus } from "./onSales.js";

export class DrawPanel {
  private concertId: number | undefined;
  private checking = false;

  constructor(
    private readonly connection: Connection,
    private readonly userId: () => string | undefined,
  ) {
    $("draw-check").addEventListener("click", () => void this.check());
  }

  /**
   * Shown for an on-sale with a draw (a commitment); `opened`: its draw has run, so the seed is
   * public and the check is offered.
   */
  render(onSale: OnSaleStatus | undefined, opened: boolean): void {
    const section = $("draw");
    section.hidden = !onSale?.commitment;
    if (!onSale?.commitment) return;
    if (this.concertId !== onSale.concertId) {
      this.concertId = onSale.concertId;
      $("draw-result").hidden = true;
    }
    section.dataset.opened = String(opened);
    $("draw-commitment").textContent = onSale.commitment;
    $("draw-intro").textContent = opened
      ? "The draw has run and its seed is public. Check that the seed is the one committed to before the opening " +
        "and that the line is in the seed's order; your place is computed here, in your browser."
      : "At the opening a random draw puts everyone in the pre-queue in order. The server chose the draw's secret " +
        "seed in advance and publishes only its SHA-256, this commitment: note it down. At the opening the seed is " +
        "published, and anyone can check that it matches.";
    $("draw-check").hidden = !opened;
    const command = ["npm", "run", "verify-draw", "--", String(onSale.concertId), "--server", location.origin];
    command.push("--user", this.userId() ?? "<your user id>");
    const words = command.map((word) => element("span", "arg", word));
    $("draw-cli").replaceChildren(...words.flatMap((word, index) => (index === 0 ? [word] : [" ", word])));
  }

  private async check(): Promise<void> {
    const concertId = this.concertId;
    const userId = this.userId();
    if (concertId === undefined || userId === undefined || this.checking) return;
    const button = $<HTMLButtonElement>("draw-check");
    if (!webCryptoAvailable()) {
      this.show([
        "This browser offers no Web Crypto on this page (it needs https, or a server on this computer). " +
          "Use the command below instead.",
      ]);
      return;
    }
    this.checking = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const draw = await this.connection.request("draw.get", { concertId });
      const checked = await checkDraw(draw, userId);
      if (concertId !== this.concertId) return;
      if (!checked) this.show(["The draw has not run yet: its seed is published at the opening."]);
      else this.showCheck(checked);
    } catch (error) {
      alertError(error, "list");
    } finally {
      this.checking = false;
      button.disabled = false;
      button.setAttribute("aria-busy", "false");
    }
  }

  private showCheck(checked: DrawCheck): void {
    const verified = checked.commitmentMatches && checked.firstMisplaced === null;
    const seed = element("p", "draw-value");
    seed.append(element("span", undefined, "Seed"), " ", element("code", undefined, checked.seed));
    const lines = [
      checked.commitmentMatches
        ? "✓ SHA-256 of the seed is the commitment published before the opening."
        : "✗ SHA-256 of the seed is NOT the commitment published before the opening.",
      checked.firstMisplaced !== null
        ? `✗ The published order differs from the seed's at place ${count(checked.firstMisplaced)}.`
        : checked.total === 0
          ? "✓ Nobody lined up before the opening: the draw had no entries to order."
          : checked.total === 1
            ? "✓ The draw had a single entry, so there was no order to check."
            : `✓ All ${count(checked.total)} entries are in the order the seed gives (HMAC-SHA256).`,
      checked.place === null
        ? "You were not in the draw: you lined up after the opening, so you joined the line at the back."
        : `Your entry (${checked.entryId.slice(0, 12)}…) drew place ${count(checked.place)} of ${count(checked.total)}.`,
    ];
    this.show(lines, seed, verified);
  }

  private show(lines: string[], first?: HTMLElement, verified?: boolean): void {
    const result = $("draw-result");
    result.replaceChildren(...(first ? [first] : []), ...lines.map((line) => element("p", undefined, line)));
    if (verified === undefined) delete result.dataset.verified;
    else result.dataset.verified = String(verified);
    result.hidden = false;
  }
}
