// balance.charge — add money to the caller's balance, idempotently; POST /v1/balance/charge.
import { z } from "zod";
import { IdempotencyRecords } from "../../actors/idempotency.js";
import { ApiError } from "../../errors.js";
import { defineOp } from "../op.js";
import { balanceView, idempotencyKey } from "../schemas.js";

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
    const fingerprint = IdempotencyRecords.fingerprint("balance.charge", { amount });
    return actors.idempotency.run({ userId, key, fingerprint, successStatus: 200, now }, (recordWrite) =>
      actors.wallets.charge(userId, amount, now, recordWrite),
    );
  },
});
