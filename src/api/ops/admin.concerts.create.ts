// admin.concerts.create — add a concert with its schedules; POST /v1/admin/concerts.
import { z } from "zod";
import { ApiError } from "../../errors.js";
import { defineOp } from "../op.js";
import { id, instant } from "../schemas.js";

const isoDateTime = z
  .string()
  .max(64)
  .refine((value) => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value), {
    message: "must be an ISO-8601 date-time",
  });

export const adminConcertsCreate = defineOp({
  name: "admin.concerts.create",
  summary: "add a concert with its schedules",
  http: { method: "POST", path: "/v1/admin/concerts", status: 201 },
  gate: "admin",
  // A price over CHARGE_MAX.
  errors: ["INVALID_ARGUMENT"],
  args: z.object({
    title: z.string().trim().min(1).max(200),
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
  }),
  handle({ title, schedules }, { actors, config, now }) {
    // A price is bounded like a charge, so one seat can always be paid for.
    if (schedules.some((s) => s.price > config.chargeMax)) {
      throw new ApiError("INVALID_ARGUMENT", `schedules[].price must be at most ${config.chargeMax}`);
    }
    const normalised = schedules.map((s) => ({ ...s, startsAt: new Date(s.startsAt).toISOString() }));
    return actors.catalog.create({ title, schedules: normalised }, now);
  },
});
