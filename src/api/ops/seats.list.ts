// seats.list — a schedule's seat map with its version; GET /v1/schedules/:scheduleId/seats.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, seatsView } from "../schemas.js";

export const seatsArgs = z.object({ scheduleId: id });

export const seatsList = defineOp({
  name: "seats.list",
  summary: "a schedule's seat map with its version",
  http: { method: "GET", path: "/v1/schedules/:scheduleId/seats", status: 200 },
  gate: "active",
  errors: ["NOT_FOUND"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: seatsArgs,
  result: seatsView,
  handle({ scheduleId }, { actors }) {
    return actors.catalog.schedule(scheduleId).view();
  },
});
