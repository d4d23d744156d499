// reservations.best — hold the best `count` adjacent seats of one row; POST /v1/reservations/best.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, reservationView } from "../schemas.js";

/** The schema allows what any configuration could; the handler checks MAX_HOLDS_PER_USER. */
const MAX_BLOCK = 1000;

export const bestReservation = reservationView.extend({
  status: z.literal("held"),
  section: z.string().describe('the seat\'s section ("" without a venue)'),
  label: z.string().describe('"<row>-<k>", or the seat number without a venue'),
});

export const reservationsBest = defineOp({
  name: "reservations.best",
  summary: "hold the best `count` adjacent seats of one row, all or none",
  http: { method: "POST", path: "/v1/reservations/best", status: 201 },
  gate: "active",
  // INVALID_ARGUMENT: count over MAX_HOLDS_PER_USER, or a category the schedule does not have.
  errors: ["INVALID_ARGUMENT", "NOT_FOUND", "HOLD_LIMIT", "SEAT_UNAVAILABLE"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: z.object({
    scheduleId: id,
    count: z.number().int().min(1).max(MAX_BLOCK).describe("1..MAX_HOLDS_PER_USER"),
    category: z.string().max(64).optional().describe("only seats of this category"),
    accessible: z.boolean().optional().describe("true: only accessible seats"),
  }),
  result: z.object({ reservations: z.array(bestReservation) }),
  async handle({ scheduleId, count, category, accessible }, { actors, config, userId, now }) {
    const reservations = await actors.reservations.holdBest(
      userId,
      scheduleId,
      { count, ...(category !== undefined ? { category } : {}), ...(accessible === true ? { accessible } : {}) },
      config.holdTtlMs,
      now,
    );
    return { reservations };
  },
});
