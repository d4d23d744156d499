// Every NATS subject the nodes of a cluster use, in one place (DESIGN.md, "Scale past one process").
// Ids come from the API after validation, so a bad id here is a bug: it throws instead of making a
// subject like `tickets.actor.*` (a wildcard) or `tickets.actor.` (an invalid subject).

const PREFIX = "tickets";

function id(value: number, what: string, allowZero = false): number {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${what} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${String(value)}`);
  }
  return value;
}

export const subjects = {
  /** Requests to the actor of one concert, answered by the node that owns it (request/reply). */
  actor: (concertId: number) => `${PREFIX}.actor.${id(concertId, "concert id")}`,
  /** Seat diffs of one schedule, published by its owner to every node whose sockets follow it. */
  seats: (scheduleId: number) => `${PREFIX}.seats.${id(scheduleId, "schedule id")}`,
  /** Queue updates of one waiting room; room 0 is the site room. */
  room: (roomId: number) => `${PREFIX}.room.${id(roomId, "room id", true)}`,
  /** Node heartbeats. */
  nodes: `${PREFIX}.nodes`,
} as const;
