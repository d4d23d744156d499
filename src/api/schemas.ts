// Argument schemas shared by several ops.
import { z } from "zod";
import { hasControlCharacter } from "../text.js";

export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A seat number of any integer value; whether the seat exists is the schedule's to answer (404). */
export const seatNo = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** A string of printable characters (no C0 control or DEL). */
export const printable = (schema: z.ZodString) =>
  schema.refine((text) => !hasControlCharacter(text), "must not contain control characters");

export const idempotencyKey = printable(z.string().min(1).max(128)).optional();

export const noArgs = z.object({});

// Result schemas shared by several ops: the bodies the server sends, for the typed client and OpenAPI.
const count = z.number().int().min(0);
const money = z.number().int().min(0);
const instant = z.string().meta({ format: "date-time", description: "ISO-8601 date-time" });

export const queueStatus = z.object({
  token: z.string(),
  status: z.enum(["waiting", "active"]),
  position: count.describe("1-based among waiting tokens; 0 once active"),
  waiting: count,
  active: count,
  etaSeconds: count,
  expiresAt: instant,
});

export const seatStatus = z.enum(["available", "held", "sold"]);

export const seatsView = z.object({
  scheduleId: id,
  version: count.describe("grows by one per seats push; the base for the pushes that follow"),
  seats: z.array(z.object({ no: id, price: money, status: seatStatus })),
});

export const reservationView = z.object({
  reservationId: id,
  scheduleId: id,
  seatNo: id,
  price: money,
  status: z.enum(["held", "paid", "expired", "released"]),
  expiresAt: instant,
});

export const balanceView = z.object({ userId: z.string(), balance: money });

export { instant };
