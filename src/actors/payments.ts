// Payments: all-or-nothing over several holds — debit, sale, end of the queue token — decided in
// one turn and written in one transaction.
import { ApiError } from "../errors.js";
import { type Commits, noWrite, type Write } from "../store/commitQueue.js";
import type { Store } from "../store/store.js";
import type { Catalog } from "./catalog.js";
import type { IdSequence } from "./ids.js";
import type { Reservations } from "./reservations.js";
import type { WaitingRooms } from "./rooms.js";
import type { Wallets } from "./wallets.js";

export interface PaymentView {
  paymentId: number;
  reservationIds: number[];
  amount: number;
  balance: number;
  status: "paid";
}

export class Payments {
  constructor(
    private readonly store: Store,
    private readonly reservations: Reservations,
    private readonly wallets: Wallets,
    private readonly rooms: WaitingRooms,
    private readonly catalog: Catalog,
    private readonly ids: IdSequence,
    private readonly commits: Commits,
  ) {}

  /**
   * Pays `reservationIds` for `userId`. Every check comes before any change, with no await in
   * between, so a failure changes nothing and no other request can interleave.
   * `recordWrite` (the idempotency record) joins the same transaction.
   */
  async pay(
    userId: string,
    reservationIds: number[],
    now: number,
    recordWrite: (view: PaymentView) => Write = () => noWrite,
  ): Promise<PaymentView> {
    const holds = reservationIds.map((id) => this.reservations.liveHoldOf(userId, id, now));
    const amount = holds.reduce((sum, hold) => sum + hold.price, 0);
    const balanceBefore = this.wallets.balanceOf(userId);
    if (balanceBefore < amount) {
      throw new ApiError("INSUFFICIENT_BALANCE", `balance ${balanceBefore} is below the amount ${amount}`);
    }
    const paymentId = this.ids.next();
    const sale = this.reservations.sell(holds, paymentId, now);
    const debit = this.wallets.move(userId, -amount, "payment", paymentId, now);
    // The payer's booking window ends in the rooms that gate the concerts of these seats.
    const concerts = new Set(holds.map((hold) => this.catalog.schedule(hold.scheduleId).concertId));
    this.rooms.endFor(userId, concerts, now);
    const view: PaymentView = { paymentId, reservationIds, amount, balance: debit.balance, status: "paid" };
    const record = recordWrite(view);
    await this.commits.commit(() => {
      this.store.insertPayment(paymentId, userId, amount, now);
      sale();
      debit.write();
      record();
    });
    return view;
  }
}
