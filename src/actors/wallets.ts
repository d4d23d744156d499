// Balances of every user, in memory; the ledger on disk is the record they are summed from.
import { ApiError } from "../errors.js";
import { type Commits, noWrite, type Write } from "../store/commitQueue.js";
import type { Store } from "../store/store.js";

export interface BalanceView {
  userId: string;
  balance: number;
}

export class Wallets {
  private readonly balances = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly commits: Commits,
    private readonly balanceMax: number,
  ) {
    for (const { id, balance } of store.allBalances()) this.balances.set(id, balance);
  }

  balanceOf(userId: string): number {
    return this.balances.get(userId) ?? 0;
  }

  /**
   * Adds `amount` to the user's balance unless that would pass BALANCE_MAX; resolves once it is
   * durable. `recordWrite` (the idempotency record) joins the same transaction.
   */
  async charge(
    userId: string,
    amount: number,
    now: number,
    recordWrite: (view: BalanceView) => Write = () => noWrite,
  ): Promise<BalanceView> {
    if (this.balanceOf(userId) + amount > this.balanceMax) {
      throw new ApiError("BALANCE_LIMIT", `the balance may not exceed ${this.balanceMax}`);
    }
    const { balance, write } = this.move(userId, amount, "charge", null, now);
    const view: BalanceView = { userId, balance };
    const record = recordWrite(view);
    await this.commits.commit(() => {
      write();
      record();
    });
    return view;
  }

  /** Moves `amount` (positive: charge, negative: payment) and returns the write that records it. */
  move(userId: string, amount: number, kind: "charge" | "payment", paymentId: number | null, now: number) {
    const balance = this.balanceOf(userId) + amount;
    if (balance < 0) throw new Error(`balance of ${userId} would go negative`);
    this.balances.set(userId, balance);
    const write: Write = () => {
      this.store.appendLedger(userId, amount, kind, paymentId, now);
      this.store.setBalance(userId, balance);
    };
    return { balance, write };
  }
}
