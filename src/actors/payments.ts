// Payments: all-or-nothing over several holds — debit and sale decided in one turn and written in
// one transaction (a savepoint of the turn's), then the end of the payer's booking window.
import { ApiError } from "../errors.js";
import { type Commits, DeclinedByDatabase, noWrite, type Write } from "../store/commitQueue.js";
import type { Store } from "../store/store.js";
import type { Catalog } from "./catalog.js";
import type { Hold } from "./holds.js";
import type { IdSource } from "./ids.js";
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
    private readonly ids: IdSource,
    private readonly commits: Commits,
  ) {}

  /**
   * Pays `reservationIds` for `userId`. Every check comes before any change, with no await in
   * between, so a failure changes nothing and no other request can interleave (a hold that is
   * not live is refused after a read that says why, having changed nothing). `recordWrite` (the
   * idempotency record) joins the same transaction. The database checks the balance and the holds
   * again; if it declines, nothing of the payment is written, the seats are held again and the
   * caller gets the database's error.
   */
  async pay(
    userId: string,
    reservationIds: number[],
    now: number,
    recordWrite: (view: PaymentView) => Write = () => noWrite,
  ): Promise<PaymentView> {
    const holds: Hold[] = [];
    for (const id of reservationIds) {
      const hold = this.reservations.liveHold(userId, id, now);
      if (hold === undefined) return this.reservations.refuse(userId, id, now);
      holds.push(hold);
    }
    const amount = holds.reduce((sum, hold) => sum + hold.price, 0);
    const balanceBefore = this.wallets.balanceOf(userId);
    if (balanceBefore < amount) {
      throw new ApiError("INSUFFICIENT_BALANCE", `balance ${balanceBefore} is below the amount ${amount}`);
    }
    const paymentId = this.ids.next();
    const sale = this.reservations.sell(holds, paymentId, now);
    const debit = this.wallets.debit(userId, amount, paymentId, now);
    const view: PaymentView = { paymentId, reservationIds, amount, balance: debit.balance, status: "paid" };
    const record = recordWrite(view);
    try {
      await this.commits.commit(() => {
        this.store.insertPayment(paymentId, userId, amount, now);
        sale();
        debit.write();
        record();
      });
    } catch (error) {
      if (error instanceof DeclinedByDatabase) {
        debit.undo();
        this.reservations.unsell(holds);
      }
      throw error;
    }
    // The payer's booking window ends in the rooms that gate the concerts of these seats.
    const concerts = new Set(holds.map((hold) => this.catalog.schedule(hold.scheduleId).concertId));
    this.rooms.endFor(userId, concerts, Date.now());
    return view;
  }
}
