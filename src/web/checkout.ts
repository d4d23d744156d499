// Money: the balance, adding money, paying for every hold, the receipt, and when the balance is
// short, an offer to add exactly the missing amount and pay. Each payment and charge carries an
// idempotency key that its retries reuse, so a double click or a lost reply never pays twice.
import type { ResultOf } from "../client/index.js";
import type { Catalog } from "./catalog.js";
import type { Connection } from "./connection.js";
import { $, alertError, clearAlert, element, newIdempotencyKey, notify } from "./dom.js";
import { seats, won } from "./format.js";
import type { Hold, Holds } from "./holds.js";
import { errorCode } from "./messages.js";

interface TopUpOffer {
  /** The holds the offer was made for: it lapses when they change. */
  ids: string;
  missing: number;
  chargeKey: string;
}

export class Checkout {
  private paying = false;
  private charging = false;
  /** The key of the payment of exactly these ids, until it succeeds (a retry must reuse it). */
  private payKey: { ids: string; key: string } | undefined;
  private offer: TopUpOffer | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly holds: Holds,
    private readonly catalog: Catalog,
    /** Holds may be out of date (a payment found one expired or already paid): re-read them. */
    private readonly resyncHolds: () => Promise<void>,
  ) {
    $("pay").addEventListener("click", () => void this.pay());
    $("pay-offer-accept").addEventListener("click", () => void this.acceptOffer());
    $("pay-offer-cancel").addEventListener("click", () => this.dropOffer());
    $("charge-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.chargeFromForm();
    });
    holds.onChange(() => this.render());
  }

  async refreshBalance(): Promise<number> {
    const { balance } = await this.connection.request("balance.get", {});
    this.showBalance(balance);
    return balance;
  }

  render(): void {
    const pay = $<HTMLButtonElement>("pay");
    const count = this.holds.size;
    pay.disabled = this.paying || count === 0;
    pay.setAttribute("aria-busy", String(this.paying));
    pay.textContent = this.paying ? "Paying…" : count > 0 ? `Pay ${won(this.holds.total)}` : "Pay";
    if (this.offer && this.offer.ids !== idsOf(this.holds.all())) this.dropOffer();
    document.body.toggleAttribute("data-holding", count > 0);
  }

  private showBalance(balance: number): void {
    $("balance").textContent = won(balance);
  }

  async pay(): Promise<void> {
    const paying = this.holds.all();
    if (this.paying || paying.length === 0) return;
    clearAlert();
    this.paying = true;
    this.render();
    try {
      const payment = await this.payOnce(paying);
      this.holds.remove(payment.reservationIds);
      this.payKey = undefined;
      this.showBalance(payment.balance);
      this.showReceipt(paying, payment);
    } catch (error) {
      await this.payFailed(error, paying);
    } finally {
      this.paying = false;
      this.render();
    }
  }

  /** payments.create; when the reply is lost, asked again with the same key (answered once). */
  private async payOnce(paying: Hold[]): Promise<ResultOf<"payments.create">> {
    const ids = idsOf(paying);
    if (this.payKey?.ids !== ids) this.payKey = { ids, key: newIdempotencyKey() };
    const args = { reservationIds: paying.map((h) => h.reservationId), idempotencyKey: this.payKey.key };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.connection.request("payments.create", args);
      } catch (error) {
        if (!(errorCode(error) === "CONNECTION_LOST" && attempt < 2)) throw error;
        notify("The connection dropped while paying. Asking again once it is back (you are charged once).");
      }
    }
  }

  private async payFailed(error: unknown, paying: Hold[]): Promise<void> {
    const code = errorCode(error);
    if (code === "INSUFFICIENT_BALANCE") {
      await this.offerTopUp(paying).catch((e) => alertError(e, "pay"));
      return;
    }
    alertError(error, "pay");
    if (code === "HOLD_EXPIRED" || code === "ALREADY_PAID" || code === "NOT_FOUND" || code === "FORBIDDEN") {
      await this.resyncHolds().catch(() => {});
    }
  }

  /** The balance is short: offer to add exactly the difference, then pay. */
  private async offerTopUp(paying: Hold[]): Promise<void> {
    const balance = await this.refreshBalance();
    const total = paying.reduce((sum, h) => sum + h.price, 0);
    const missing = total - balance;
    if (missing <= 0) {
      notify("Your balance covers these seats now. Press Pay again.");
      return;
    }
    this.offer = { ids: idsOf(paying), missing, chargeKey: newIdempotencyKey() };
    $("pay-offer-text").textContent =
      `Your balance is ${won(balance)}, and ${seats(paying.length)} cost${paying.length === 1 ? "s" : ""} ${won(total)}. ` +
      `Add the missing ${won(missing)} and pay?`;
    $("pay-offer-accept").textContent = `Add ${won(missing)} and pay`;
    $("pay-offer").hidden = false;
    $("pay-offer-accept").focus();
  }

  private dropOffer(): void {
    this.offer = undefined;
    $("pay-offer").hidden = true;
  }

  private async acceptOffer(): Promise<void> {
    const offer = this.offer;
    if (!offer || this.charging) return;
    clearAlert();
    this.charging = true;
    $<HTMLButtonElement>("pay-offer-accept").disabled = true;
    try {
      // The offer's own key: pressed twice, or retried after a lost reply, it still adds the amount once.
      const { balance } = await this.connection.request("balance.charge", {
        amount: offer.missing,
        idempotencyKey: offer.chargeKey,
      });
      this.showBalance(balance);
      this.dropOffer();
    } catch (error) {
      alertError(error, "charge");
      return;
    } finally {
      this.charging = false;
      $<HTMLButtonElement>("pay-offer-accept").disabled = false;
    }
    await this.pay();
  }

  private async chargeFromForm(): Promise<void> {
    if (this.charging) return;
    clearAlert();
    const input = $<HTMLInputElement>("charge-amount");
    const amount = Number(input.value);
    const submit = $<HTMLButtonElement>("charge-submit");
    this.charging = true;
    submit.disabled = true;
    try {
      const { balance } = await this.connection.request("balance.charge", {
        amount,
        idempotencyKey: newIdempotencyKey(),
      });
      this.showBalance(balance);
      this.dropOffer(); // its amount was computed from the balance before this charge
      input.value = "";
      notify(`Added ${won(amount)}. Your balance is ${won(balance)}.`);
    } catch (error) {
      alertError(error, "charge");
    } finally {
      this.charging = false;
      submit.disabled = false;
    }
  }

  /** The receipt: which concert and date, which seats, what was paid, the balance left. */
  private showReceipt(paid: Hold[], payment: ResultOf<"payments.create">): void {
    const receipt = $("confirmation");
    const bySchedule = new Map<number, Hold[]>();
    for (const hold of paid) bySchedule.set(hold.scheduleId, [...(bySchedule.get(hold.scheduleId) ?? []), hold]);
    const list = element("ul");
    for (const [scheduleId, held] of bySchedule) {
      // "seats 5, 6" without a venue; "seats A-12, Stalls; A-13, Stalls" with one.
      const labels = held.sort((a, b) => a.seatNo - b.seatNo).map((h) => this.holds.nameOf(h).replace(/^seat /, ""));
      const separator = labels.some((label) => label.includes(",")) ? "; " : ", ";
      const where = this.catalog.describeSchedule(scheduleId, held[0]!.concertId);
      list.append(
        element("li", undefined, `${where}: ${labels.length === 1 ? "seat" : "seats"} ${labels.join(separator)}`),
      );
    }
    receipt.replaceChildren(
      element("h2", undefined, "Booked"),
      list,
      element(
        "p",
        undefined,
        `Paid ${won(payment.amount)} for ${seats(paid.length)} (payment #${payment.paymentId}). ` +
          `Balance left: ${won(payment.balance)}.`,
      ),
    );
    receipt.hidden = false;
    receipt.scrollIntoView({ block: "nearest" });
    receipt.focus({ preventScroll: true });
  }
}

function idsOf(holds: readonly Hold[]): string {
  return holds
    .map((h) => h.reservationId)
    .sort((a, b) => a - b)
    .join(",");
}
