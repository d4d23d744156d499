// seats.subscribe / seats.unsubscribe — live seat-map diffs over a WebSocket (no HTTP twin).
import { z } from "zod";
import { ApiError } from "../../errors.js";
import { defineOp, type Session } from "../op.js";
import { seatsSnapshot } from "../schemas.js";
import { seatsArgs, seatsSnapshotArgs, seatsSnapshotOf } from "./seats.list.js";

function sessionOf(session: Session | undefined): Session {
  if (!session) throw new ApiError("INVALID_ARGUMENT", "this op needs a WebSocket connection");
  return session;
}

export const seatsSubscribe = defineOp({
  name: "seats.subscribe",
  summary: "the seats.list body (compact if asked), then a seats push per change of the schedule's seat map",
  gate: "active",
  // INVALID_ARGUMENT: not over a WebSocket.
  errors: ["INVALID_ARGUMENT", "NOT_FOUND"],
  concertOf: ({ scheduleId }, actors) => actors.catalog.schedule(scheduleId).concertId,
  args: seatsSnapshotArgs,
  result: seatsSnapshot,
  handle({ scheduleId, compact }, { actors, session }) {
    const schedule = actors.catalog.schedule(scheduleId);
    // Subscribing and reading the snapshot in one turn: the next diff is exactly version + 1.
    sessionOf(session).subscribeSeats(scheduleId);
    return seatsSnapshotOf(schedule, compact);
  },
});

export const seatsUnsubscribe = defineOp({
  name: "seats.unsubscribe",
  summary: "stop the seats pushes of a schedule",
  gate: "user",
  errors: ["INVALID_ARGUMENT"],
  args: seatsArgs,
  result: z.object({}),
  handle({ scheduleId }, { session }) {
    sessionOf(session).unsubscribeSeats(scheduleId);
    return {};
  },
});
