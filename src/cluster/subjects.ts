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

function token(value: string, what: string): string {
  // NODE_ID's alphabet (config.ts), with room for a gateway's suffix (gateway.ts).
  if (!/^[A-Za-z0-9_:-]{1,80}$/.test(value)) throw new RangeError(`${what} cannot be part of a NATS subject: ${value}`);
  return value;
}

export const subjects = {
  /** Requests to the actors of one room (0: the site room), answered by the node that owns it (request/reply). */
  actor: (room: number) => `${PREFIX}.actor.${id(room, "room id", true)}`,
  /** Seat diffs of one schedule, published by its owner to every node whose sockets follow it. */
  seats: (scheduleId: number) => `${PREFIX}.seats.${id(scheduleId, "schedule id")}`,
  /** What an owner tells one node's connections (queue pushes to the sockets it follows tokens for). */
  node: (nodeId: string) => `${PREFIX}.node.${token(nodeId, "node id")}`,
  /** What follows the rooms of one node's connections (presence reports), to every room's owner. */
  presence: `${PREFIX}.presence`,
  /** A concert was created: every node reads the catalog again. */
  catalog: `${PREFIX}.catalog`,
} as const;
