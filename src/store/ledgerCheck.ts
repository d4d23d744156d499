// The start-up check of money: every balance equals the sum of its user's ledger rows. A database
// that breaks it (two writers, a lost write, an edit by hand) is refused, not served: every
// payment would otherwise build on a balance nobody can account for.
import { StartupError } from "../startupError.js";
import type { Store } from "./store.js";

const SHOWN = 5;

/** Throws a StartupError (exit 1) naming how many users are off and a few of them; returns the time it took (ms). */
export async function checkBalancesMatchLedger(store: Store): Promise<number> {
  const started = performance.now();
  const off = await store.reads.balancesOffLedger();
  if (off.length === 0) return performance.now() - started;
  // JSON quotes the ids: a user id is any JWT subject, and the message must stay on one line.
  const shown = off
    .slice(0, SHOWN)
    .map(({ userId, balance, ledger }) => `${JSON.stringify(userId)} (balance ${balance ?? "none"}, ledger ${ledger})`)
    .join(", ");
  const more = off.length > SHOWN ? `, and ${off.length - SHOWN} more` : "";
  throw new StartupError(
    `refusing to serve: ${off.length} ${off.length === 1 ? "user's balance differs" : "users' balances differ"} ` +
      `from the sum of their ledger rows: ${shown}${more}`,
    1,
  );
}
