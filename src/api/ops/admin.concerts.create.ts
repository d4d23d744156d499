// admin.concerts.create — add a concert with its schedules; POST /v1/admin/concerts.
import { z } from "zod";
import type { NewConcert } from "../../actors/catalog.js";
import type { Config } from "../../config.js";
import { ApiError } from "../../errors.js";
import { defineOp } from "../op.js";
import { id, instant, isoDateTime, onSaleStatus, timeZone } from "../schemas.js";

export const adminConcertsCreate = defineOp({
  name: "admin.concerts.create",
  summary: "add a concert with its schedules, and optionally an on-sale (its own waiting room and draw)",
  http: { method: "POST", path: "/v1/admin/concerts", status: 201 },
  gate: "admin",
  // A price over CHARGE_MAX.
  errors: ["INVALID_ARGUMENT"],
  args: z.object({
    title: z.string().trim().min(1).max(200),
    timeZone: timeZone.optional(),
    onSale: z
      .object({ opensAt: isoDateTime.optional(), activeMax: z.number().int().min(1).max(1_000_000).optional() })
      .optional(),
    schedules: z
      .array(
        z.object({
          startsAt: isoDateTime,
          seatCount: z.number().int().min(1).max(100_000),
          price: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        }),
      )
      .min(1)
      .max(100),
  }),
  result: z.object({
    id,
    title: z.string(),
    schedules: z.array(z.object({ id, startsAt: instant, totalSeats: z.number().int().min(1) })),
    onSale: onSaleStatus.optional(),
  }),
  async handle(args, { actors, config, now }) {
    const created = await actors.catalog.create(newConcertOf(args, config), now);
    if (args.onSale === undefined) return created;
    return { ...created, onSale: actors.rooms.status(created.id, now) };
  },
});

/** The concert an admin asked for, as the catalog takes it (also a cluster node's, src/cluster/gatewayOps.ts). */
export function newConcertOf(
  { title, timeZone, schedules, onSale }: z.output<typeof adminConcertsCreate.args>,
  config: Config,
): NewConcert {
  // A price is bounded like a charge, so one seat can always be paid for.
  if (schedules.some((s) => s.price > config.chargeMax)) {
    throw new ApiError("INVALID_ARGUMENT", `schedules[].price must be at most ${config.chargeMax}`);
  }
  const normalised = schedules.map((s) => ({ ...s, startsAt: new Date(s.startsAt).toISOString() }));
  const sale =
    onSale === undefined
      ? undefined
      : {
          ...(onSale.opensAt !== undefined ? { opensAt: Date.parse(onSale.opensAt) } : {}),
          ...(onSale.activeMax !== undefined ? { activeMax: onSale.activeMax } : {}),
        };
  return {
    title,
    ...(timeZone !== undefined ? { timeZone } : {}),
    schedules: normalised,
    ...(sale ? { onSale: sale } : {}),
  };
}
