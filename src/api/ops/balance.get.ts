// balance.get — the caller's balance; GET /v1/balance.
import { defineOp } from "../op.js";
import { balanceView, noArgs } from "../schemas.js";

export const balanceGet = defineOp({
  name: "balance.get",
  summary: "the caller's balance",
  http: { method: "GET", path: "/v1/balance", status: 200 },
  gate: "user",
  args: noArgs,
  result: balanceView,
  handle(_args, { actors, userId }) {
    return { userId, balance: actors.wallets.balanceOf(userId) };
  },
});
