// Schemas of what the server sends unasked over a WebSocket (pushes) and of the error body:
// the typed client, /openapi.json and /asyncapi.json follow them; src/ws/pushes.ts builds the pushes.
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors.js";
import { id, instant, seatStatus } from "./schemas.js";

const count = z.number().int().min(0);

export const seatsPush = z.object({
  ev: z.literal("seats"),
  scheduleId: id,
  version: count.describe("one more than the previous push of this schedule (or the subscribe reply's version)"),
  changes: z.array(z.object({ no: id, status: seatStatus })),
});

export const queuePush = z.object({
  ev: z.literal("queue"),
  token: z.string(),
  concertId: id.nullable().describe("the on-sale's concert; null for the site room"),
  status: z
    .enum(["waiting", "active", "expired", "soldout"])
    .describe("soldout: the on-sale sold out and the token ended (only token and concertId come with it)"),
  position: count.nullable().optional().describe("all but soldout pushes"),
  waiting: count.optional().describe("all but soldout pushes"),
  etaSeconds: count.nullable().optional().describe("all but soldout pushes"),
  active: count.optional().describe("waiting and active pushes"),
  expiresAt: instant.optional().describe("waiting and active pushes"),
  opensAt: instant.nullable().optional().describe("waiting and active pushes: the room's opening (null: none)"),
  reason: z.string().optional().describe("expired pushes: why the token ended"),
});

/** `{error: {code, message, retryAfter?}}` whose code is one of `codes`. */
export function errorBodyOf<const Code extends ErrorCode>(codes: readonly [Code, ...Code[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string().describe("for people; the code is for programs"),
      retryAfter: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe("seconds to wait before retrying: on every 429 and 503 (also the Retry-After header)"),
    }),
  });
}

export const errorBodySchema = errorBodyOf(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);
