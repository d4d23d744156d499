// schedules.list — a concert's dates with seat counts; GET /v1/concerts/:concertId/schedules.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, instant } from "../schemas.js";

export const schedulesList = defineOp({
  name: "schedules.list",
  summary: "a concert's dates with seat counts",
  http: { method: "GET", path: "/v1/concerts/:concertId/schedules", status: 200 },
  gate: "active",
  errors: ["NOT_FOUND"],
  concertOf: ({ concertId }, actors) => actors.catalog.concert(concertId).id,
  args: z.object({ concertId: id }),
  result: z.object({
    schedules: z.array(
      z.object({
        id,
        concertId: id,
        startsAt: instant,
        timeZone: z.string().describe("the date's IANA time zone (its own, else its concert's), for showing startsAt"),
        totalSeats: z.number().int().min(0),
        availableSeats: z.number().int().min(0),
      }),
    ),
  }),
  handle({ concertId }, { actors }) {
    const concertZone = actors.catalog.concert(concertId).timeZone;
    const schedules = actors.catalog.schedulesOf(concertId).map((s) => ({
      id: s.id,
      concertId: s.concertId,
      startsAt: s.startsAt,
      timeZone: s.timeZone ?? concertZone,
      totalSeats: s.totalSeats,
      availableSeats: s.availableSeats,
    }));
    return { schedules };
  },
});
