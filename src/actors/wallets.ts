// Balances of every user, in memory; the ledger on disk is the record they are summed from.
import type { Store } from "../store/store.js";

export class Wallets {
  private readonly balances = new Map<string, number>();

  constructor(private readonly store: Store) {
    for (const { id, balance } of store.allBalances()) this.balances.set(id, balance);
  }

  balanceOf(userId: string): number {
    return this.balances.get(userId) ?? 0;
  }

  /** Moves `amount` (positive: charge, negative: payment) and returns the write that records it. */
  move(userId: string, amount: number, kind: "charge" | "payment", paymentId: number | null, now: number) {
    const balance = this.balanceOf(userId) + amount;
    if (balance < 0) throw new Error(`balance of ${userId} would go negative`);
    this.balances.set(userId, balance);
    const write = () => {
      this.store.appendLedger(userId, amount, kind, paymentId, now);
      this.store.setBalance(userId, balance);
    };
    return { balance, write };
  }
}
