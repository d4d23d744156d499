// payments.create — pay several holds at once, idempotently; POST /v1/payments.
import { z } from "zod";
import { IdempotencyRecords, type MoneyRequest } from "../../actors/idempotency.js";
import { defineOp, type OpContext } from "../op.js";
import { id, idempotencyKey } from "../schemas.js";

export const paymentsCreate = defineOp({
  name: "payments.create",
  summary: "pay several holds at once",
  http: { method: "POST", path: "/v1/payments", status: 201 },
  gate: "user",
  // The holds (in order), the balance, then the idempotency records: mismatch, money rate, keys per user.
  errors: [
    "NOT_FOUND",
    "FORBIDDEN",
    "ALREADY_PAID",
    "HOLD_EXPIRED",
    "INSUFFICIENT_BALANCE",
    "IDEMPOTENCY_MISMATCH",
    "RATE_LIMITED",
  ],
  args: z.object({
    reservationIds: z
      .array(id)
      .min(1)
      .max(100)
      .refine((ids) => new Set(ids).size === ids.length, "reservationIds must not repeat"),
    idempotencyKey,
  }),
  result: z.object({
    paymentId: id,
    reservationIds: z.array(id),
    amount: z.number().int().min(0),
    balance: z.number().int().min(0),
    status: z.literal("paid"),
  }),
  handle(args, context) {
    const { actors, userId, now } = context;
    const pay = actors.payments.pay.bind(actors.payments, userId, args.reservationIds, now);
    return actors.idempotency.run(paymentRequest(args, context), pay);
  },
});

/** A payment's money request (a cluster node's too, src/cluster/gatewayOps.ts). */
export function paymentRequest(
  { reservationIds, idempotencyKey: key }: { reservationIds: number[]; idempotencyKey?: string | undefined },
  { userId, now }: Pick<OpContext, "userId" | "now">,
): MoneyRequest {
  const fingerprint = IdempotencyRecords.fingerprint("payments.create", { reservationIds });
  return { userId, key, fingerprint, successStatus: 201, now };
}
