// balance.charge — add money to the caller's balance, idempotently; POST /v1/balance/charge.
import { z } from "zod";
import { IdempotencyRecords, type MoneyRequest } from "../../actors/idempotency.js";
import { ApiError } from "../../errors.js";
import { defineOp, type OpContext } from "../op.js";
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
  handle(args, context) {
    const { actors, userId, now } = context;
    return actors.idempotency.run(chargeRequest(args, context), (recordWrite) =>
      actors.wallets.charge(userId, args.amount, now, recordWrite),
    );
  },
});

/** A charge's money request, CHARGE_MAX checked (a cluster node's too, src/cluster/gatewayOps.ts). */
export function chargeRequest(
  { amount, idempotencyKey: key }: { amount: number; idempotencyKey?: string | undefined },
  { config, userId, now }: Pick<OpContext, "config" | "userId" | "now">,
): MoneyRequest {
  if (amount > config.chargeMax) {
    throw new ApiError("INVALID_ARGUMENT", `amount must be at most ${config.chargeMax}`);
  }
  const fingerprint = IdempotencyRecords.fingerprint("balance.charge", { amount });
  return { userId, key, fingerprint, successStatus: 200, now };
}
