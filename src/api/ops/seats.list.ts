// seats.list — a schedule's seat map with its version; GET /v1/schedules/:scheduleId/seats.
import { z } from "zod";
import type { ScheduleActor } from "../../actors/schedule.js";
import { defineOp } from "../op.js";
import { compactFlag, id, seatsSnapshot } from "../schemas.js";

export const seatsArgs = z.object({ scheduleId: id });

export const seatsSnapshotArgs = z.object({ scheduleId: id, compact: compactFlag });

/** The full seat map, or the compact one. */
export function seatsSnapshotOf(schedule: ScheduleActor, compact: boolean | undefined) {
  return compact === true ? schedule.compactView() : schedule.view();
}

export const seatsList = defineOp({
  name: "seats.list",
  summary: "a schedule's seat map with its version (compact: statuses packed, the layout by its ETag)",
  http: { method: "GET", path: "/v1/schedules/:scheduleId/seats", status: 200, query: ["compact"] },
  gate: "active",
  errors: ["NOT_FOUND"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: seatsSnapshotArgs,
  result: seatsSnapshot,
  handle({ scheduleId, compact }, { actors }) {
    return seatsSnapshotOf(actors.catalog.schedule(scheduleId), compact);
  },
});
