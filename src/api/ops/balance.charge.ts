// balance.charge — add money to the caller's balance, idempotently; POST /v1/balance/charge.
import { z } from "zod";
import { IdempotencyRecords } from "../../actors/idempotency.js";
import { ApiError } from "../../errors.js";
import { defineOp } from "../op.js";
import { balanceView, idempotencyKey } from "../schemas.js";

interface ChargeView {
  userId: string;
  balance: number;
}

export const balanceCharge = defineOp({
  name: "balance.charge",
  summary: "add money to the caller's balance",
  http: { method: "POST", path: "/v1/balance/charge", status: 200 },
  gate: "user",
  // Over CHARGE_MAX; over BALANCE_MAX; the idempotency records: mismatch, money rate, keys per user.
  errors: ["INVALID_ARGUMENT", "BALANCE_LIMIT", "IDEMPOTENCY_MISMATCH", "RATE_LIMITED"],
  args: z.object({ amount: z.number().int().min(1), idempotencyKey }),
  result: balanceView,
  handle({ amount, idempotencyKey: key }, { actors, config, userId, now }) {
    if (amount > config.chargeMax) {
      throw new ApiError("INVALID_ARGUMENT", `amount must be at most ${config.chargeMax}`);
    }
    const charge = async (extraWrite: (view: ChargeView) => () => void) => {
      if (actors.wallets.balanceOf(userId) + amount > config.balanceMax) {
        throw new ApiError("BALANCE_LIMIT", `the balance may not exceed ${config.balanceMax}`);
      }
      const { balance, write } = actors.wallets.move(userId, amount, "charge", null, now);
      const view: ChargeView = { userId, balance };
      const record = extraWrite(view);
      await actors.commits.commit(() => {
        write();
        record();
      });
      return view;
    };
    const fingerprint = IdempotencyRecords.fingerprint("balance.charge", { amount });
    return actors.idempotency.run({ userId, key, fingerprint, successStatus: 200, now }, charge);
  },
});
