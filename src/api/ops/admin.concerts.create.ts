// admin.concerts.create — add a concert with its schedules; POST /v1/admin/concerts.
import { z } from "zod";
import type { NewConcert, NewSchedule } from "../../actors/catalog.js";
import type { Config } from "../../config.js";
import { ApiError } from "../../errors.js";
import type { SeatLayout } from "../../venues/layout.js";
import {
  checkVenueReferences,
  concertVenuesSchema,
  layoutOf,
  MAX_VENUE_SEATS,
  type NamedVenue,
  priceIssue,
  resolveVenue,
  type Venue,
  venueRefSchema,
} from "../../venues/venue.js";
import { defineOp } from "../op.js";
import { id, instant, isoDateTime, onSaleStatus, timeZone } from "../schemas.js";

/** A schedule: `seatCount` seats in one row at `price`, or a `venue` (inline, or one of the concert's `venues` by name). */
export const scheduleArgs = z
  .object({
    startsAt: isoDateTime,
    timeZone: timeZone.optional().describe("the date's own IANA time zone; default the concert's"),
    seatCount: z.number().int().min(1).max(MAX_VENUE_SEATS).optional(),
    price: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    venue: venueRefSchema.optional(),
  })
  .superRefine((schedule, ctx) => {
    if (schedule.venue !== undefined) {
      for (const key of ["seatCount", "price"] as const) {
        if (schedule[key] !== undefined) {
          ctx.addIssue({ code: "custom", path: [key], message: "give a venue or seatCount and price, not both" });
        }
      }
      return;
    }
    for (const key of ["seatCount", "price"] as const) {
      if (schedule[key] === undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: "required when the schedule has no venue" });
      }
    }
  });

export const adminConcertsCreate = defineOp({
  name: "admin.concerts.create",
  summary: "add a concert with its schedules, and optionally an on-sale (its own waiting room and draw)",
  http: { method: "POST", path: "/v1/admin/concerts", status: 201 },
  gate: "admin",
  // A price over CHARGE_MAX.
  errors: ["INVALID_ARGUMENT"],
  args: z
    .object({
      title: z.string().trim().min(1).max(200),
      timeZone: timeZone.optional(),
      onSale: z
        .object({ opensAt: isoDateTime.optional(), activeMax: z.number().int().min(1).max(1_000_000).optional() })
        .optional(),
      venues: concertVenuesSchema.optional(),
      schedules: z.array(scheduleArgs).min(1).max(100),
    })
    .superRefine(checkVenueReferences),
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
  { title, timeZone, schedules, venues, onSale }: z.output<typeof adminConcertsCreate.args>,
  config: Config,
): NewConcert {
  const normalised = newSchedulesOf(schedules, venues, config.chargeMax);
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

/**
 * The schedules as the catalog takes them: times as instants, venues laid out (one layout per
 * venue, however many dates name it). A price is bounded like a charge (`priceMax`, CHARGE_MAX),
 * so one seat can always be paid for; INVALID_ARGUMENT names the first price over it.
 */
export function newSchedulesOf(
  schedules: z.output<typeof scheduleArgs>[],
  venues: readonly NamedVenue[] | undefined,
  priceMax: number,
): NewSchedule[] {
  (venues ?? []).forEach((venue, i) => {
    const issue = priceIssue(venue, priceMax);
    if (issue !== undefined) throw new ApiError("INVALID_ARGUMENT", `venues.${i}.${issue}`);
  });
  const layouts = new Map<Venue, SeatLayout>();
  return schedules.map((s, i) => {
    const startsAt = new Date(s.startsAt).toISOString();
    const zone = s.timeZone === undefined ? {} : { timeZone: s.timeZone };
    if (s.venue === undefined) {
      // The schema requires both without a venue.
      const price = s.price!;
      if (price > priceMax) throw new ApiError("INVALID_ARGUMENT", `schedules.${i}.price: must be at most ${priceMax}`);
      return { startsAt, ...zone, seatCount: s.seatCount!, price };
    }
    const venue = resolveVenue(s.venue, venues);
    const issue = priceIssue(venue, priceMax);
    if (issue !== undefined) throw new ApiError("INVALID_ARGUMENT", `schedules.${i}.venue.${issue}`);
    let layout = layouts.get(venue);
    if (layout === undefined) layouts.set(venue, (layout = layoutOf(venue)));
    return { startsAt, ...zone, venue: layout };
  });
}
