// Schemas of what the server sends unasked over a WebSocket (pushes) and of the error body:
// the typed client and docs/websocket.md follow them; the server builds them in src/ws/pushes.ts.
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
  status: z.enum(["waiting", "active", "expired"]),
  position: count,
  waiting: count,
  etaSeconds: count,
  active: count.optional().describe("waiting and active pushes"),
  expiresAt: instant.optional().describe("waiting and active pushes"),
  reason: z.string().optional().describe("expired pushes: why the token ended"),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
  }),
});
