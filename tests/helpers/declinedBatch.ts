// One turn's batch in which the database declines some units and takes the others: the same
// scenario for every writer (SQLite in place and on its thread, PostgreSQL), and what it leaves.
import type { Commits } from "../../src/store/commitQueue.js";
import type { Store } from "../../src/store/store.js";

/** Commits a first charge, then the batch; resolves with each unit's outcome, in order. */
export async function commitBatchWithDeclines(store: Store, commits: Commits): Promise<PromiseSettledResult<void>[]> {
  await commits.commit(() => store.credit("ann", 100, 1_000, 0));
  return Promise.allSettled([
    commits.commit(() => store.credit("bo", 5, 1_000, 0)),
    // ann has 100: the database refuses to take 150 (no ledger row, no balance change) ...
    commits.commit(() => {
      store.insertPayment(1, "ann", 150, 0);
      store.debit("ann", 150, 1, 0);
    }),
    // ... a charge over BALANCE_MAX likewise, and a sale of a reservation not held on disk ...
    commits.commit(() => store.credit("cy", 2_000, 1_000, 0)),
    commits.commit(() => store.payReservation(999, 2)),
    // ... while a payment the balance covers commits beside them.
    commits.commit(() => store.debit("ann", 60, 3, 0)),
  ]);
}

/** Each unit's outcome: "ok", or the code it was declined with. */
export const outcomes = (results: PromiseSettledResult<void>[]): string[] =>
  results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code));

/** What the batch leaves: its outcomes, the balances, the ledger, and no payment row. */
export const AFTER_DECLINES = {
  outcomes: ["ok", "INSUFFICIENT_BALANCE", "BALANCE_LIMIT", "HOLD_EXPIRED", "ok"],
  balances: [
    { id: "ann", balance: 40 },
    { id: "bo", balance: 5 },
  ],
  ledger: [
    { user_id: "ann", amount: 100 },
    { user_id: "bo", amount: 5 },
    { user_id: "ann", amount: -60 },
  ],
};
