// Balances of every user, in memory; the ledger on disk is the record they are summed from, and
// the database has the last word on every move (writeStatements.ts: credit and debit).
import { ApiError } from "../errors.js";
import { type Commits, DeclinedByDatabase, noWrite, type Write } from "../store/commitQueue.js";
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
    restored: Iterable<{ id: string; balance: number }>,
  ) {
    for (const { id, balance } of restored) this.balances.set(id, balance);
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
    const balance = this.add(userId, amount);
    const view: BalanceView = { userId, balance };
    const record = recordWrite(view);
    try {
      await this.commits.commit(() => {
        this.store.credit(userId, amount, this.balanceMax, now);
        record();
      });
    } catch (error) {
      if (error instanceof DeclinedByDatabase) this.shift(userId, -amount);
      throw error;
    }
    return view;
  }

  /**
   * Takes a payment's `amount` off the balance in memory and returns the write that debits it on
   * disk, and the undo for when the database declines it.
   */
  debit(userId: string, amount: number, paymentId: number, now: number) {
    const balance = this.add(userId, -amount);
    const write: Write = () => this.store.debit(userId, amount, paymentId, now);
    return { balance, write, undo: () => this.shift(userId, amount) };
  }

  /** Moves the balance in memory by `amount` (the caller checked it); returns the new balance. */
  private add(userId: string, amount: number): number {
    if (this.balanceOf(userId) + amount < 0) throw new Error(`balance of ${userId} would go negative`);
    return this.shift(userId, amount);
  }

  /** Moves the balance in memory by `amount`, unchecked: the undo of a move the database declined. */
  private shift(userId: string, amount: number): number {
    const balance = this.balanceOf(userId) + amount;
    this.balances.set(userId, balance);
    return balance;
  }
}
