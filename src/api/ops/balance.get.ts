// balance.get — the caller's balance; GET /v1/balance.
import { defineOp } from "../op.js";
import { noArgs } from "../schemas.js";

export const balanceGet = defineOp({
  name: "balance.get",
  http: { method: "GET", path: "/v1/balance", status: 200 },
  gate: "user",
  args: noArgs,
  handle(_args, { actors, userId }) {
    return { userId, balance: actors.wallets.balanceOf(userId) };
  },
});
