// Argument schemas shared by several ops.
import { z } from "zod";

export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A seat number of any integer value; whether the seat exists is the schedule's to answer (404). */
export const seatNo = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const idempotencyKey = z.string().min(1).max(128).optional();

export const noArgs = z.object({});
