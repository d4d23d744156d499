// seats.subscribe / seats.unsubscribe — live seat-map diffs over a WebSocket (no HTTP twin).
import { ApiError } from "../../errors.js";
import { defineOp, type Session } from "../op.js";
import { seatsArgs } from "./seats.list.js";

function sessionOf(session: Session | undefined): Session {
  if (!session) throw new ApiError("INVALID_ARGUMENT", "this op needs a WebSocket connection");
  return session;
}

export const seatsSubscribe = defineOp({
  name: "seats.subscribe",
  gate: "active",
  args: seatsArgs,
  handle({ scheduleId }, { actors, session }) {
    const schedule = actors.catalog.schedule(scheduleId);
    // Subscribing and reading the snapshot in one turn: the next diff is exactly version + 1.
    sessionOf(session).subscribeSeats(scheduleId);
    return schedule.view();
  },
});

export const seatsUnsubscribe = defineOp({
  name: "seats.unsubscribe",
  gate: "user",
  args: seatsArgs,
  handle({ scheduleId }, { session }) {
    sessionOf(session).unsubscribeSeats(scheduleId);
    return {};
  },
});
