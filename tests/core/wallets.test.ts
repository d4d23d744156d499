// Wallets in process: charges within BALANCE_MAX, durable before answered, balances from the ledger.

import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { noWrite } from "../../src/store/commitQueue.js";
import { type InProcess, startCore } from "../helpers/core.js";

describe("Wallets", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("charge() adds to the balance and appends to the ledger; the balance survives a restart", async () => {
    s = await startCore();
    const { wallets } = s.core.actors;
    expect(await wallets.charge("ann", 300, Date.now())).toEqual({ userId: "ann", balance: 300 });
    expect(await wallets.charge("ann", 200, Date.now())).toEqual({ userId: "ann", balance: 500 });
    s = await s.restart();
    expect(s.core.actors.wallets.balanceOf("ann")).toBe(500);
    await s.close();
    const db = new Database(join(s.dataDir, "tickets.db"), { readonly: true });
    expect(db.prepare("SELECT amount, kind FROM ledger WHERE user_id = 'ann' ORDER BY id").all()).toEqual([
      { amount: 300, kind: "charge" },
      { amount: 200, kind: "charge" },
    ]);
    db.close();
  });

  it("a charge past BALANCE_MAX is BALANCE_LIMIT and changes nothing; the limit itself is allowed", async () => {
    s = await startCore({ BALANCE_MAX: "1000" });
    const { wallets } = s.core.actors;
    await wallets.charge("bo", 900, Date.now());
    await expect(wallets.charge("bo", 101, Date.now())).rejects.toMatchObject({ code: "BALANCE_LIMIT" });
    expect(wallets.balanceOf("bo")).toBe(900);
    expect(await wallets.charge("bo", 100, Date.now())).toEqual({ userId: "bo", balance: 1000 });
  });

  it("the record write given to charge() joins the charge's transaction", async () => {
    s = await startCore();
    let recorded: unknown;
    await s.core.actors.wallets.charge("cy", 5, Date.now(), (view) => {
      recorded = view;
      return noWrite;
    });
    expect(recorded).toEqual({ userId: "cy", balance: 5 });
  });
});
